// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * New TCP connections per second from pod A to pod B through the node namespace, filtered
 *   - by iptables: N rules in a linear chain in FORWARD, the matching rule last, established
 *     connections accepted first (as NetworkPolicy and kube-proxy chains are built), or
 *   - by Weir: N entries in pod B's policy map, the allowing entry among them,
 * with the same generator on the same pods, in interleaved rounds. Root only; it creates and
 * removes its own namespaces. Each run is bounded in time and count.
 *
 * usage: conn_bench <weir.bpf.o> [seconds per run] [rounds] [N ...]
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "weir.h"
#include "pods.h"
#include "policy_keys.h"

#define MAX_CONNECTIONS_PER_RUN 2000000

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* Accepts and closes connections in pod B until killed. */
static pid_t start_server(void)
{
	int listener = socket_in(fd_b, SOCK_STREAM);
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in at = address(POD_B, TCP_PORT);
	if (bind(listener, (struct sockaddr *)&at, sizeof(at)) || listen(listener, 4096)) {
		perror("server");
		teardown();
		exit(2);
	}
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
			int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
		}
	}
	close(listener);
	return pid;
}

/* Opens and resets connections from pod A for `seconds`; returns connections per second. */
static double measure(double seconds)
{
	struct sockaddr_in to = address(POD_B, TCP_PORT);
	struct linger reset = { .l_onoff = 1, .l_linger = 0 }; /* RST on close: no TIME_WAIT pile-up */
	long done = 0, failed = 0;
	enter(fd_a);
	double start = now_s(), end = start + seconds;
	while (done < MAX_CONNECTIONS_PER_RUN) {
		if ((done & 63) == 0 && now_s() > end)
			break;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timeval timeout = { .tv_sec = 1 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0)
			done++;
		else if (++failed > 100) {
			fprintf(stderr, "connections fail: %s\n", strerror(errno));
			break;
		}
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
	}
	double elapsed = now_s() - start;
	enter(fd_node);
	return failed > 100 ? 0 : done / elapsed;
}

static void iptables_rules(int n)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/weir-bench-rules-%d", getpid());
	FILE *f = fopen(path, "w");
	fprintf(f, "*filter\n:FORWARD DROP [0:0]\n:WEIR-BENCH - [0:0]\n");
	fprintf(f, "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A FORWARD -j WEIR-BENCH\n");
	for (int i = 0; i < n - 1; i++)
		fprintf(f, "-A WEIR-BENCH -s 198.19.%d.%d/32 -d %s/32 -p tcp -m tcp --dport %d -j ACCEPT\n", (i / 250) % 250,
			i % 250 + 1, POD_B, TCP_PORT);
	fprintf(f, "-A WEIR-BENCH -s %s/32 -d %s/32 -p tcp -m tcp --dport %d -j ACCEPT\nCOMMIT\n", POD_A, POD_B, TCP_PORT);
	fclose(f);
	sh("ip netns exec %s iptables-restore < %s", ns_node, path);
	unlink(path);
}

static void iptables_flush(void)
{
	sh("ip netns exec %s iptables -P FORWARD ACCEPT && ip netns exec %s iptables -F && ip netns exec %s iptables -X",
	   ns_node, ns_node, ns_node);
}

static void weir_on(struct weir_datapath *dp, int n)
{
	struct weir_endpoint a = pod_endpoint(EP_A, ID_A, 0, POD_A);
	struct weir_endpoint b = pod_endpoint(EP_B, ID_B, WEIR_EP_INGRESS_ISOLATED, POD_B);
	struct weir_policy_key *keys = calloc(n, sizeof(*keys));
	struct weir_policy_entry *entries = calloc(n, sizeof(*entries));
	for (int i = 0; i < n - 1; i++)
		keys[i] = policy_key(5000 + i, TCP_PORT, IPPROTO_TCP, WEIR_DIR_INGRESS);
	keys[n - 1] = policy_key(ID_A, TCP_PORT, IPPROTO_TCP, WEIR_DIR_INGRESS);
	for (int i = 0; i < n; i++)
		entries[i].prefixlen = keys[i].prefixlen;
	if (weir_endpoint_attach(dp, if_nametoindex(if_a), &a) || weir_endpoint_attach(dp, if_nametoindex(if_b), &b) ||
	    weir_policy_upsert(dp, EP_B, keys, entries, n) != n) {
		fprintf(stderr, "weir: %s\n", weir_last_error());
		teardown();
		exit(2);
	}
	free(keys);
	free(entries);
}

static void weir_off(struct weir_datapath *dp)
{
	weir_endpoint_detach(dp, if_nametoindex(if_a), EP_A, 1);
	weir_endpoint_detach(dp, if_nametoindex(if_b), EP_B, 1);
}

static int compare(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <weir.bpf.o> [seconds] [rounds] [N ...]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	int sizes[8] = { 10, 1000, 10000 }, nsizes = 3;
	if (argc > 4) {
		nsizes = 0;
		for (int i = 4; i < argc && nsizes < 8; i++)
			sizes[nsizes++] = atoi(argv[i]);
	}
	if (rounds > 16)
		rounds = 16;
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/weir-connbench-%d", getpid());
	setup_namespaces();
	enter(fd_node);
	struct weir_options options = { .object_path = argv[1], .pin_root = pin_root };
	int err;
	struct weir_datapath *dp = weir_open(&options, &err);
	if (!dp) {
		fprintf(stderr, "cannot load the datapath: %s\n", weir_last_error());
		teardown();
		return 2;
	}
	struct weir_ipcache_key key = { .prefixlen = WEIR_IPCACHE_PREFIX_BITS + 32, .family = WEIR_FAMILY_IPV4 };
	struct weir_ipcache_value value = { .identity = ID_A };
	inet_pton(AF_INET, POD_A, key.addr);
	weir_ipcache_upsert(dp, &key, &value, 1);
	value.identity = ID_B;
	inet_pton(AF_INET, POD_B, key.addr);
	weir_ipcache_upsert(dp, &key, &value, 1);

	pid_t server = start_server();
	double none[16], ipt[8][16], weir[8][16];
	for (int r = 0; r < rounds; r++) {
		none[r] = measure(seconds);
		for (int s = 0; s < nsizes; s++) {
			iptables_rules(sizes[s]);
			ipt[s][r] = measure(seconds);
			iptables_flush();
			weir_on(dp, sizes[s]);
			weir[s][r] = measure(seconds);
			weir_off(dp);
		}
	}
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	weir_close(dp);
	teardown();

	qsort(none, rounds, sizeof(double), compare);
	printf("new connections/s, median of %d rounds of %.1f s; unfiltered: %.0f\n", rounds, seconds, none[rounds / 2]);
	printf("%8s | %12s | %12s | %s\n", "N", "iptables", "weir", "weir/iptables");
	for (int s = 0; s < nsizes; s++) {
		qsort(ipt[s], rounds, sizeof(double), compare);
		qsort(weir[s], rounds, sizeof(double), compare);
		double i = ipt[s][rounds / 2], w = weir[s][rounds / 2];
		printf("%8d | %12.0f | %12.0f | %.2f\n", sizes[s], i, w, i > 0 ? w / i : 0);
	}
	return 0;
}
