/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test pods: network namespaces "a" and "b" routed through a "node" namespace whose host-side
 * veths carry the datapath, addressed from 198.18.0.0/15. Shared by the namespace test and the
 * connection-rate benchmark; whoever calls setup_namespaces() calls teardown().
 */
#ifndef WEIR_TEST_PODS_H
#define WEIR_TEST_PODS_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any include (setns, accept4)"
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weir.h"

static char ns_node[32], ns_a[32], ns_b[32], if_a[IFNAMSIZ], if_b[IFNAMSIZ], pin_root[96];
static int fd_node, fd_a, fd_b;

#define POD_A "198.18.1.2"
#define POD_B "198.18.2.2"
#define ID_A 1000
#define ID_B 1001
#define EP_A 1
#define EP_B 2
#define TCP_PORT 8080
#define UDP_PORT 9000
#define FIXED_UDP_SOURCE 5555 /* outside the ephemeral range: the probes never reuse it */

static inline int sh(const char *fmt, ...)
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

static inline void teardown(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; rm -rf %s",
		 ns_a, ns_b, ns_node, pin_root);
	if (system(cmd) != 0)
		fprintf(stderr, "teardown incomplete\n");
}

static inline void enter(int ns_fd)
{
	if (setns(ns_fd, CLONE_NEWNET)) {
		perror("setns");
		teardown();
		exit(2);
	}
}

static inline int open_ns(const char *name)
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

static inline void setup_namespaces(void)
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

static inline int socket_in(int ns_fd, int type)
{
	enter(ns_fd);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	enter(fd_node);
	return fd;
}

static inline struct sockaddr_in address(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

/* Connects from pod A to pod B's TCP port; returns the socket or -1 after timeout_ms. */
static inline int connect_a_to_b(int timeout_ms)
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

static inline int exchange(int from, int to, const char *text)
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

/* A pod's endpoint record: its id, identity, flags and its own (IPv4) address. */
static inline struct weir_endpoint pod_endpoint(uint32_t id, uint32_t identity, uint32_t flags, const char *ip)
{
	struct weir_endpoint ep = { .endpoint_id = id, .identity = identity, .flags = flags | WEIR_EP_HAS_IPV4,
				    .policy_revision = 1 };
	inet_pton(AF_INET, ip, ep.ipv4);
	return ep;
}

static inline int accept_one(int listener)
{
	struct pollfd p = { .fd = listener, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

#endif
