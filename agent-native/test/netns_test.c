// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath on real interfaces (root only). Two pods, network namespaces with addresses from
 * 198.18.0.0/15, talk through a node namespace whose host-side veths carry Weir's programs:
 *   - an allowed connection opens and carries data;
 *   - a deny written through libweir drops the next connection;
 *   - the established connection keeps working in both directions under default-deny;
 *   - a process that reloads the datapath adopts the pinned maps, and the deny never stops
 *     dropping: every probe sent during the reloads is counted dropped, none arrives;
 *   - a pod that takes an allowed pod's address and sends from it (UDP, a blind TCP SYN) is
 *     dropped at its own interface as an invalid source, and counted;
 *   - an ICMP "fragmentation needed" about an accepted connection leaves B's default-deny
 *     egress and reaches A; one about no connection does not.
 * Everything it creates (namespaces, interfaces, pins) it removes, also on failure.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "weir.h"

#include "pods.h"
#include "packets.h"
#include "counters.h"
#include "policy_keys.h"

static int failures, checks;

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
	struct weir_endpoint a = pod_endpoint(EP_A, ID_A, 0, POD_A);
	struct weir_endpoint b = pod_endpoint(EP_B, ID_B, WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED, POD_B);
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
	struct weir_policy_key key = policy_key(identity, port, proto, WEIR_DIR_INGRESS);
	struct weir_policy_entry entry = { .cookie = cookie, .flags = deny ? WEIR_POLICY_DENY : 0,
					   .prefixlen = key.prefixlen };
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

#define POD_C "198.18.1.3"  /* no pod has it: B allows it, and A will claim it */
#define ID_C 1002
#define SPOOF_UDP_PORT 9001
#define SPOOF_TCP_PORT 8081

/* Pod A, root in its namespace, adds C's address to its interface and sends from it. */
static int spoof_from_a(int type, int port)
{
	int fd = socket_in(fd_a, type | SOCK_NONBLOCK);
	struct sockaddr_in from = address(POD_C, 0);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from))) {
		fprintf(stderr, "bind to %s: %s\n", POD_C, strerror(errno));
		close(fd);
		return -1;
	}
	struct sockaddr_in to = address(POD_B, port);
	if (type == SOCK_DGRAM) {
		int sent = sendto(fd, "spoof", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5;
		close(fd);
		return sent ? 0 : -1;
	}
	connect(fd, (struct sockaddr *)&to, sizeof(to)); /* EINPROGRESS: the SYN is on its way */
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int connected = poll(&p, 1, 1000) == 1;
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(fd);
	return connected && !err ? 1 : 0;
}

static uint16_t checksum(const void *data, size_t len)
{
	const uint8_t *b = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum & 0xffff);
}

/*
 * Pod B says "fragmentation needed, MTU 1400" to A about a TCP segment A sent it from
 * a_port to TCP_PORT, as a router or B's own stack would, through a raw socket in B.
 */
static void frag_needed_from_b(uint16_t a_port)
{
	uint8_t msg[8 + 28] = { 3, 4, 0, 0, 0, 0, 1400 >> 8, 1400 & 0xff };
	build_icmp_quote(msg + 8, POD_A, POD_B, IPPROTO_TCP, a_port, TCP_PORT);
	uint16_t sum = checksum(msg, sizeof(msg));
	memcpy(msg + 2, &sum, 2);
	enter(fd_b);
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	enter(fd_node);
	struct sockaddr_in to = address(POD_A, 0);
	CHECK(sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) == sizeof(msg), "send ICMP: %s",
	      strerror(errno));
	close(fd);
}

/* ICMP "fragmentation needed" messages that arrived in A since the socket was opened. */
static int frag_needed_received(int raw)
{
	uint8_t buf[256];
	int n = 0;
	struct pollfd p = { .fd = raw, .events = POLLIN };
	while (poll(&p, 1, 300) == 1) {
		ssize_t len = recv(raw, buf, sizeof(buf), MSG_DONTWAIT);
		if (len <= 0)
			break;
		int ihl = (buf[0] & 0xf) * 4;
		if (len > ihl + 1 && buf[ihl] == 3 && buf[ihl + 1] == 4)
			n++;
	}
	return n;
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
	uint64_t denies_before = packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS);
	policy(dp, EP_B, ID_A, WEIR_PORT_ANY, WEIR_PROTO_ANY, 1, 99);
	/* As the agent does: an allow inside a deny's range goes, or it would hide the deny. */
	struct weir_policy_key covered[] = { policy_key(ID_A, TCP_PORT, IPPROTO_TCP, WEIR_DIR_INGRESS),
					     policy_key(ID_A, UDP_PORT, IPPROTO_UDP, WEIR_DIR_INGRESS) };
	CHECK(weir_policy_delete(dp, EP_B, covered, 2) == 2, "covered allows removed: %s", weir_last_error());
	int refused = connect_a_to_b(1000);
	CHECK(refused < 0, "a connection after the deny does not open");
	if (refused >= 0)
		close(refused);
	CHECK(packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS) > denies_before,
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
	uint64_t before = packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS);
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
	uint64_t dropped = packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS) - before;
	CHECK(sent > 100, "enough probes were sent (%d)", sent);
	CHECK(arrived == 0, "%d of %d probes arrived during the reloads", arrived, sent);
	CHECK(dropped == (uint64_t)sent, "%llu of %d probes were counted dropped by the deny", (unsigned long long)dropped,
	      sent);
	CHECK(exchange(client, server, "after reload") == 0, "established connection survives reloads");
	printf("ok: %d reloads, %d probes sent, %d arrived, %llu dropped\n", reloads, sent, arrived,
	       (unsigned long long)dropped);

	/* 5. A pod that claims another's address: B allows C, A takes C's address and sends as C. */
	ipcache_pod(dp, POD_C, ID_C);
	policy(dp, EP_B, ID_C, SPOOF_UDP_PORT, IPPROTO_UDP, 0, 5);
	policy(dp, EP_B, ID_C, SPOOF_TCP_PORT, IPPROTO_TCP, 0, 6);
	CHECK(sh("ip -n %s addr add %s/32 dev eth0", ns_a, POD_C) == 0, "A takes C's address");
	int udp_spoofed = socket_in(fd_b, SOCK_DGRAM);
	struct sockaddr_in sat = address(POD_B, SPOOF_UDP_PORT);
	CHECK(bind(udp_spoofed, (struct sockaddr *)&sat, sizeof(sat)) == 0, "bind spoof target");
	int spoof_listener = socket_in(fd_b, SOCK_STREAM);
	struct sockaddr_in tat = address(POD_B, SPOOF_TCP_PORT);
	setsockopt(spoof_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK(bind(spoof_listener, (struct sockaddr *)&tat, sizeof(tat)) == 0 && listen(spoof_listener, 4) == 0,
	      "listen spoof target");
	uint64_t invalid_before = packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_SOURCE_IP, WEIR_DIR_EGRESS);
	for (int i = 0; i < 5; i++)
		CHECK(spoof_from_a(SOCK_DGRAM, SPOOF_UDP_PORT) == 0, "spoofed datagram sent");
	CHECK(spoof_from_a(SOCK_STREAM, SPOOF_TCP_PORT) == 0, "a spoofed SYN opens no connection");
	usleep(100000);
	CHECK(udp_received(udp_spoofed) == 0, "no spoofed datagram arrives");
	uint64_t invalid = packets_counted(dp, WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_SOURCE_IP, WEIR_DIR_EGRESS) -
			   invalid_before;
	CHECK(invalid >= 6, "%llu spoofed packets counted as invalid sources, want >= 6", (unsigned long long)invalid);
	close(udp_spoofed);
	close(spoof_listener);
	sh("ip -n %s addr del %s/32 dev eth0", ns_a, POD_C);
	printf("ok: %llu spoofed packets dropped as invalid sources\n", (unsigned long long)invalid);

	/* 6. Path MTU discovery under default-deny: B's "fragmentation needed" about A's segment. */
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);
	CHECK(getsockname(client, (struct sockaddr *)&local, &local_len) == 0, "client port");
	enter(fd_a);
	int raw_a = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	enter(fd_node);
	int64_t related_before = weir_health_read(dp, WEIR_HEALTH_ICMP_RELATED);
	frag_needed_from_b(ntohs(local.sin_port));
	CHECK(frag_needed_received(raw_a) == 1, "the error about A's connection reaches A");
	/* Related at B's egress (its default-deny) and at A's ingress (A tracks the connection too). */
	CHECK(weir_health_read(dp, WEIR_HEALTH_ICMP_RELATED) == related_before + 2, "and was passed as related");
	frag_needed_from_b(ntohs(local.sin_port) ^ 1); /* a connection that does not exist */
	CHECK(frag_needed_received(raw_a) == 0, "an error about no connection does not leave B");
	close(raw_a);
	printf("ok: ICMP errors follow their connection\n");

	/* 7. Detaching forgets the endpoints; the interfaces go with the namespaces. */
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
