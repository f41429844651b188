// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath on real interfaces (root only). Two pods, network namespaces with addresses from
 * 198.18.0.0/15, talk through a node namespace whose host-side veths carry Weir's programs:
 *   - an allowed connection opens and carries data;
 *   - a deny written through libweir drops the next connection;
 *   - the established connection keeps working in both directions under default-deny;
 *   - a process that reloads the datapath adopts the pinned maps, and the deny never stops
 *     dropping: every probe sent during the reloads is counted dropped, none arrives.
 * Everything it creates (namespaces, interfaces, pins) it removes, also on failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weir.h"

static int failures, checks;
static char ns_node[32], ns_a[32], ns_b[32], if_a[IFNAMSIZ], if_b[IFNAMSIZ], pin_root[96];
static int fd_node, fd_a, fd_b;

#define CHECK(cond, ...)                                                                  \
	do {                                                                                  \
		checks++;                                                                         \
		if (!(cond)) {                                                                    \
			failures++;                                                                   \
			fprintf(stderr, "FAIL %s:%d %s: ", __FILE__, __LINE__, #cond);                \
			fprintf(stderr, __VA_ARGS__);                                                 \
			fprintf(stderr, "\n");                                                        \
		}                                                                                 \
	} while (0)

#define POD_A "198.18.1.2"
#define POD_B "198.18.2.2"
#define ID_A 1000
#define ID_B 1001
#define EP_A 1
#define EP_B 2
#define TCP_PORT 8080
#define UDP_PORT 9000
#define FIXED_UDP_SOURCE 5555 /* outside the ephemeral range: the probes never reuse it */

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; rm -rf %s",
		 ns_a, ns_b, ns_node, pin_root);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown incomplete\n");
}

static void enter(int ns_fd)
{
	if (setns(ns_fd, CLONE_NEWNET)) {
		perror("setns");
		teardown();
		exit(2);
	}
}

static int open_ns(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		teardown();
		exit(2);
	}
	return fd;
}

static void setup_namespaces(void)
{
	int id = getpid() % 100000;
	snprintf(ns_node, sizeof(ns_node), "weir-t-node-%d", id);
	snprintf(ns_a, sizeof(ns_a), "weir-t-a-%d", id);
	snprintf(ns_b, sizeof(ns_b), "weir-t-b-%d", id);
	snprintf(if_a, sizeof(if_a), "wta%d", id);
	snprintf(if_b, sizeof(if_b), "wtb%d", id);
	int rc = 0;
	rc |= sh("ip netns add %s && ip netns add %s && ip netns add %s", ns_node, ns_a, ns_b);
	rc |= sh("ip -n %s link set lo up && ip -n %s link set lo up && ip -n %s link set lo up", ns_node, ns_a, ns_b);
	rc |= sh("ip -n %s link add %s type veth peer name eth0 netns %s", ns_node, if_a, ns_a);
	rc |= sh("ip -n %s link add %s type veth peer name eth0 netns %s", ns_node, if_b, ns_b);
	rc |= sh("ip -n %s addr add 198.18.1.1/24 dev %s && ip -n %s link set %s up", ns_node, if_a, ns_node, if_a);
	rc |= sh("ip -n %s addr add 198.18.2.1/24 dev %s && ip -n %s link set %s up", ns_node, if_b, ns_node, if_b);
	rc |= sh("ip -n %s addr add %s/24 dev eth0 && ip -n %s link set eth0 up && ip -n %s route add default via 198.18.1.1",
		 ns_a, POD_A, ns_a, ns_a);
	rc |= sh("ip -n %s addr add %s/24 dev eth0 && ip -n %s link set eth0 up && ip -n %s route add default via 198.18.2.1",
		 ns_b, POD_B, ns_b, ns_b);
	rc |= sh("ip netns exec %s sysctl -qw net.ipv4.ip_forward=1", ns_node);
	if (rc) {
		teardown();
		fprintf(stderr, "FATAL: could not create the test pods\n");
		exit(2);
	}
	fd_node = open_ns(ns_node);
	fd_a = open_ns(ns_a);
	fd_b = open_ns(ns_b);
}

static int socket_in(int ns_fd, int type)
{
	enter(ns_fd);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	enter(fd_node);
	return fd;
}

static struct sockaddr_in address(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* Connects from pod A to pod B's TCP port; returns the socket or -1 after timeout_ms. */
static int connect_a_to_b(int timeout_ms)
{
	int fd = socket_in(fd_a, SOCK_STREAM | SOCK_NONBLOCK);
	struct sockaddr_in to = address(POD_B, TCP_PORT);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);
	if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		close(fd);
		return -1;
	}
	return fd;
}

static int exchange(int from, int to, const char *text)
{
	if (send(from, text, strlen(text), 0) != (ssize_t)strlen(text))
		return -1;
	char buf[64] = { 0 };
	struct pollfd p = { .fd = to, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return -1;
	ssize_t n = recv(to, buf, sizeof(buf) - 1, 0);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, n) == 0 ? 0 : -1;
}

static int accept_one(int listener)
{
	struct pollfd p = { .fd = listener, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

static uint64_t counter(struct weir_datapath *dp, uint8_t verdict, uint8_t reason, uint8_t direction)
{
	struct weir_counter c[256];
	int n = weir_counters_read(dp, c, 256);
	for (int i = 0; i < n; i++)
		if (c[i].key.verdict == verdict && c[i].key.drop_reason == reason && c[i].key.direction == direction)
			return c[i].value.packets;
	return 0;
}

static struct weir_datapath *load(const char *object)
{
	struct weir_options options = { .object_path = object, .pin_root = pin_root };
	int err;
	struct weir_datapath *dp = weir_open(&options, &err);
	if (!dp) {
		fprintf(stderr, "FATAL: cannot load the datapath (%d): %s\n", err, weir_last_error());
		teardown();
		exit(2);
	}
	return dp;
}

static void attach_endpoints(struct weir_datapath *dp)
{
	struct weir_endpoint a = { .endpoint_id = EP_A, .identity = ID_A };
	struct weir_endpoint b = { .endpoint_id = EP_B, .identity = ID_B,
				   .flags = WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED };
	CHECK(weir_endpoint_attach(dp, if_nametoindex(if_a), &a) == 0, "attach A: %s", weir_last_error());
	CHECK(weir_endpoint_attach(dp, if_nametoindex(if_b), &b) == 0, "attach B: %s", weir_last_error());
}

static void ipcache_pod(struct weir_datapath *dp, const char *ip, uint32_t identity)
{
	struct weir_ipcache_key key = { .prefixlen = WEIR_IPCACHE_PREFIX_BITS + 32, .family = WEIR_FAMILY_IPV4 };
	inet_pton(AF_INET, ip, key.addr);
	struct weir_ipcache_value value = { .identity = identity };
	CHECK(weir_ipcache_upsert(dp, &key, &value, 1) == 1, "ipcache: %s", weir_last_error());
}

static void policy(struct weir_datapath *dp, uint32_t ep, uint32_t identity, uint16_t port, uint8_t proto, int deny,
		   uint32_t cookie)
{
	struct weir_policy_key key = { .identity = identity, .dport = port, .protocol = proto,
				       .direction = WEIR_DIR_INGRESS };
	struct weir_policy_entry entry = { .cookie = cookie, .flags = deny ? WEIR_POLICY_DENY : 0 };
	CHECK(weir_policy_upsert(dp, ep, &key, &entry, 1) == 1, "policy: %s", weir_last_error());
}

static int udp_received(int fd)
{
	char buf[64];
	int n = 0;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* Sends UDP probes from pod A to pod B, each from a new socket (a new flow, judged by policy),
 * until told to stop or the bounds are reached. Returns how many were sent. */
static int send_probes(int stop_fd, int max_probes, int max_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct sockaddr_in to = address(POD_B, UDP_PORT);
	int sent = 0;
	enter(fd_a);
	while (sent < max_probes) {
		struct pollfd p = { .fd = stop_fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 1)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > max_ms)
			break;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sendto(fd, "probe", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5)
			sent++;
		close(fd);
		usleep(200);
	}
	return sent;
}

int main(int argc, char **argv)
{
	const char *object = argc > 1 ? argv[1] : "../bpf/build/weir.bpf.o";
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/weir-netns-%d", getpid());
	setup_namespaces();
	enter(fd_node);

	struct weir_datapath *dp = load(object);
	ipcache_pod(dp, POD_A, ID_A);
	ipcache_pod(dp, POD_B, ID_B);
	policy(dp, EP_B, ID_A, TCP_PORT, IPPROTO_TCP, 0, 1);
	policy(dp, EP_B, ID_A, UDP_PORT, IPPROTO_UDP, 0, 2);
	attach_endpoints(dp);

	int listener = socket_in(fd_b, SOCK_STREAM);
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in at = address(POD_B, TCP_PORT);
	CHECK(bind(listener, (struct sockaddr *)&at, sizeof(at)) == 0 && listen(listener, 16) == 0, "listen");
	int udp_b = socket_in(fd_b, SOCK_DGRAM);
	struct sockaddr_in uat = address(POD_B, UDP_PORT);
	CHECK(bind(udp_b, (struct sockaddr *)&uat, sizeof(uat)) == 0, "bind udp");

	/* 1. Allowed: a connection opens and carries data both ways. */
	int client = connect_a_to_b(2000);
	CHECK(client >= 0, "an allowed connection opens");
	int server = accept_one(listener);
	CHECK(server >= 0, "and is accepted");
	CHECK(exchange(client, server, "hello") == 0, "request arrives");
	CHECK(exchange(server, client, "hi") == 0, "reply arrives");
	int udp_a = socket_in(fd_a, SOCK_DGRAM);
	struct sockaddr_in fixed = address(POD_A, FIXED_UDP_SOURCE);
	bind(udp_a, (struct sockaddr *)&fixed, sizeof(fixed));
	struct sockaddr_in uto = address(POD_B, UDP_PORT);
	sendto(udp_a, "udp", 3, 0, (struct sockaddr *)&uto, sizeof(uto));
	usleep(100000);
	CHECK(udp_received(udp_b) == 1, "an allowed UDP datagram arrives");
	printf("ok: allowed connection\n");

	/* 2. A deny written through libweir drops the next connection. */
	uint64_t denies_before = counter(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS);
	policy(dp, EP_B, ID_A, WEIR_PORT_ANY, WEIR_PROTO_ANY, 1, 99);
	int refused = connect_a_to_b(1000);
	CHECK(refused < 0, "a connection after the deny does not open");
	if (refused >= 0)
		close(refused);
	CHECK(counter(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS) > denies_before,
	      "the SYNs were dropped by the deny");
	printf("ok: deny drops new connections\n");

	/* 3. The established connection still works both ways, under default-deny egress for B. */
	CHECK(exchange(client, server, "still there?") == 0, "established request passes");
	CHECK(exchange(server, client, "yes") == 0, "established reply passes");
	printf("ok: established connection survives\n");

	/* 4. Reload while probes fly: the deny never stops dropping. */
	int stop[2];
	CHECK(pipe(stop) == 0, "pipe");
	int result[2];
	CHECK(pipe(result) == 0, "pipe");
	uint64_t before = counter(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS);
	pid_t child = fork();
	if (child == 0) {
		int sent = send_probes(stop[0], 20000, 10000);
		if (write(result[1], &sent, sizeof(sent)) != sizeof(sent))
			_exit(3);
		_exit(0);
	}
	usleep(50000);
	int reloads = 0;
	for (int i = 0; i < 5; i++) {
		weir_close(dp); /* programs stay attached, maps stay pinned */
		usleep(20000);
		dp = load(object);
		CHECK(weir_adopted(dp), "reload %d adopts the pinned maps", i);
		attach_endpoints(dp); /* replaces the programs in one step */
		reloads++;
		usleep(20000);
	}
	if (write(stop[1], "x", 1) != 1)
		fprintf(stderr, "could not stop the prober\n");
	int sent = 0;
	CHECK(read(result[0], &sent, sizeof(sent)) == sizeof(sent), "probe count");
	waitpid(child, NULL, 0);
	usleep(100000);
	int arrived = udp_received(udp_b);
	uint64_t dropped = counter(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS) - before;
	CHECK(sent > 100, "enough probes were sent (%d)", sent);
	CHECK(arrived == 0, "%d of %d probes arrived during the reloads", arrived, sent);
	CHECK(dropped == (uint64_t)sent, "%llu of %d probes were counted dropped by the deny", (unsigned long long)dropped,
	      sent);
	CHECK(exchange(client, server, "after reload") == 0, "established connection survives reloads");
	printf("ok: %d reloads, %d probes sent, %d arrived, %llu dropped\n", reloads, sent, arrived,
	       (unsigned long long)dropped);

	/* 5. Detaching forgets the endpoints; the interfaces go with the namespaces. */
	CHECK(weir_endpoint_detach(dp, if_nametoindex(if_a), EP_A, 1) == 0, "detach A: %s", weir_last_error());
	CHECK(weir_endpoint_detach(dp, if_nametoindex(if_b), EP_B, 1) == 0, "detach B: %s", weir_last_error());

	close(client);
	close(server);
	close(listener);
	weir_close(dp);
	teardown();
	printf("netns: %d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
