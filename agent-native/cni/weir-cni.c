// SPDX-License-Identifier: Apache-2.0
/*
 * weir-cni: the CNI plugin (spec 1.0 and 1.1) of a Weir node.
 *
 * The container runtime runs it once per pod sandbox and command. It does no network work itself:
 * it hands the request to the node's agent over a Unix socket only root can open, and returns the
 * agent's answer as the spec says. It is static and small so that it starts in a millisecond on
 * any host it is copied to, and answers VERSION without the agent.
 *
 * The request the agent reads (one per connection):
 *   "WEIR-CNI 1\n"
 *   "CNI_COMMAND=ADD\n" ... one line per CNI_* variable that is set (no newline allowed in values)
 *   "\n"
 *   the network configuration from stdin, until the plugin shuts its side down.
 * The answer: one line with the exit code ("0\n" or "1\n"), then the bytes for stdout.
 *
 * When no agent runs (its socket is missing or refuses connections): ADD and CHECK fail with code
 * 11 (try again later: the runtime retries, and no pod runs without its datapath), STATUS with
 * code 50 (plugin not available), DEL and GC succeed (an agent that is gone has nothing attached to
 * remove; when it comes back it removes what no pod uses any more). An agent that is there but
 * does not answer (it broke off, or took longer than the timeout) is not "gone": every command,
 * DEL included, fails with code 11 and the runtime calls again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/weir/cni.sock"
/* A network configuration with a prevResult is a few KiB; anything near this is not one. */
#define MAX_CONFIG (1 << 20)
#define MAX_ANSWER (4 << 20)
#define TIMEOUT_SECONDS 60

static const char *const VARIABLES[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS",
					 "CNI_PATH" };

/* The version a configuration asks for, for error answers; "1.0.0" when it cannot be told. */
static void config_version(const char *config, char *out, size_t len)
{
	snprintf(out, len, "1.0.0");
	const char *key = config ? strstr(config, "\"cniVersion\"") : NULL;
	if (!key)
		return;
	const char *quote = strchr(key + strlen("\"cniVersion\""), '"');
	if (!quote)
		return;
	size_t n = strcspn(quote + 1, "\"\\\n");
	if (n == 0 || n >= len || quote[1 + n] != '"')
		return;
	memcpy(out, quote + 1, n);
	out[n] = '\0';
}

/* A CNI error on stdout; msg must hold no characters that need escaping in JSON. */
static int cni_error(const char *config, int code, const char *msg)
{
	char version[32];
	config_version(config, version, sizeof(version));
	printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"%s\"}\n", version, code, msg);
	return 1;
}

static char *read_all(FILE *in, size_t max, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap = cap * 2 > max ? max : cap * 2;
			char *grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		size_t got = fread(buf + n, 1, cap - n, in);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(in)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t sent = send(fd, buf, len, MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += sent;
		len -= (size_t)sent;
	}
	return 0;
}

static int agent_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval timeout = { .tv_sec = TIMEOUT_SECONDS };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int main(void)
{
	const char *command = getenv("CNI_COMMAND");
	if (!command || !*command)
		return cni_error(NULL, 4, "CNI_COMMAND is not set");
	if (strcmp(command, "VERSION") == 0) {
		printf("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
		return 0;
	}
	/* DEL and GC succeed when no agent runs, and only then. */
	int tolerant = strcmp(command, "DEL") == 0 || strcmp(command, "GC") == 0;

	size_t config_len = 0;
	char *config = read_all(stdin, MAX_CONFIG, &config_len);
	if (!config)
		return cni_error(NULL, 6, errno == EFBIG ? "network configuration larger than 1 MiB"
							  : "cannot read the network configuration");

	const char *path = getenv("WEIR_CNI_SOCKET");
	if (!path || !*path)
		path = DEFAULT_SOCKET;
	int fd = agent_connect(path);
	if (fd < 0) {
		if (tolerant && (errno == ENOENT || errno == ECONNREFUSED))
			return 0;
		if (strcmp(command, "STATUS") == 0)
			return cni_error(config, 50, "the weir agent of this node is not running");
		return cni_error(config, 11, "the weir agent of this node is not reachable yet; try again later");
	}

	char line[8192];
	int n = snprintf(line, sizeof(line), "WEIR-CNI 1\n");
	if (send_all(fd, line, (size_t)n) < 0)
		goto broken;
	for (size_t i = 0; i < sizeof(VARIABLES) / sizeof(VARIABLES[0]); i++) {
		const char *value = getenv(VARIABLES[i]);
		if (!value)
			continue;
		if (strchr(value, '\n')) {
			close(fd);
			return cni_error(config, 4, "a CNI variable holds a newline");
		}
		n = snprintf(line, sizeof(line), "%s=%s\n", VARIABLES[i], value);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			close(fd);
			return cni_error(config, 4, "a CNI variable is longer than 8 KiB");
		}
		if (send_all(fd, line, (size_t)n) < 0)
			goto broken;
	}
	if (send_all(fd, "\n", 1) < 0 || send_all(fd, config, config_len) < 0)
		goto broken;
	shutdown(fd, SHUT_WR);

	FILE *answer = fdopen(fd, "r");
	if (!answer)
		goto broken;
	size_t answer_len = 0;
	char *reply = read_all(answer, MAX_ANSWER, &answer_len);
	fclose(answer);
	if (!reply || answer_len < 2 || (reply[0] != '0' && reply[0] != '1') || reply[1] != '\n') {
		free(reply);
		return cni_error(config, 11, "the weir agent gave no answer; try again later");
	}
	fwrite(reply + 2, 1, answer_len - 2, stdout);
	int code = reply[0] - '0';
	free(reply);
	free(config);
	return code;

broken:
	close(fd);
	return cni_error(config, 11, "the connection to the weir agent broke; try again later");
}
