// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The datapath's decisions on packets built here, run with BPF_PROG_RUN: verdict, drop reason,
 * counters and the emitted event, field by field. Root only (CAP_BPF, CAP_NET_ADMIN).
 * Runs against a pin root of its own, removed at the end.
 *
 * Each test names the packet's path: BPF_PROG_RUN runs on the loopback device, so the endpoint
 * is registered on interface 1 without attaching anything to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "weir.h"
#include "packets.h"
#include "counters.h"
#include "policy_keys.h"

#define LO 1
#define FROM_ENDPOINT 0 /* packets the pod sends: its egress */
#define TO_ENDPOINT 1   /* packets for the pod: its ingress */

static int failures, checks;
static const char *current;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                         \
		checks++;                                                                                \
		if (!(cond)) {                                                                           \
			failures++;                                                                          \
			fprintf(stderr, "FAIL %s:%d [%s] %s: ", __FILE__, __LINE__, current, #cond);         \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fprintf(stderr, "\n");                                                               \
		}                                                                                        \
	} while (0)

#define EQ(actual, expected) CHECK((long long)(actual) == (long long)(expected), "got %lld, want %lld", \
				   (long long)(actual), (long long)(expected))

static struct weir_datapath *dp;
static char pin_root[128];

/* ---- fixtures ---------------------------------------------------------------------------------- */

static void ipcache(int family, const char *addr, int prefix, uint32_t identity)
{
	struct weir_ipcache_key key = { .family = family == 4 ? WEIR_FAMILY_IPV4 : WEIR_FAMILY_IPV6 };
	key.prefixlen = WEIR_IPCACHE_PREFIX_BITS + prefix;
	inet_pton(family == 4 ? AF_INET : AF_INET6, addr, key.addr);
	struct weir_ipcache_value value = { .identity = identity };
	int n = weir_ipcache_upsert(dp, &key, &value, 1);
	CHECK(n == 1, "ipcache upsert: %s", weir_last_error());
}

static void policy(uint32_t endpoint, uint32_t identity, uint16_t port, uint8_t proto, uint8_t dir, int deny,
		   uint32_t cookie)
{
	struct weir_policy_key key = policy_key(identity, port, proto, dir);
	struct weir_policy_entry entry = { .cookie = cookie, .flags = deny ? WEIR_POLICY_DENY : 0,
					   .prefixlen = key.prefixlen };
	int n = weir_policy_upsert(dp, endpoint, &key, &entry, 1);
	CHECK(n == 1, "policy upsert: %s", weir_last_error());
}

/* Allows (or denies) a port range; returns how many map entries it took. */
static int policy_range(uint32_t endpoint, uint32_t identity, uint16_t first, uint16_t last, uint8_t proto,
			uint8_t dir, int deny, uint32_t cookie)
{
	struct weir_policy_key keys[32];
	struct weir_policy_entry entries[32];
	int n = policy_range_keys(identity, first, last, proto, dir, keys, 32);
	for (int i = 0; i < n; i++)
		entries[i] = (struct weir_policy_entry){ .cookie = cookie, .flags = deny ? WEIR_POLICY_DENY : 0,
							 .prefixlen = keys[i].prefixlen };
	int written = weir_policy_upsert(dp, endpoint, keys, entries, n);
	CHECK(written == n, "policy range upsert: %s", weir_last_error());
	return n;
}

static void policy_remove(uint32_t endpoint, uint32_t identity, uint16_t port, uint8_t proto, uint8_t dir)
{
	struct weir_policy_key key = policy_key(identity, port, proto, dir);
	EQ(weir_policy_delete(dp, endpoint, &key, 1), 1);
}

#define POD6 "2001:db8::2"

/* The endpoint on the test interface, with the pod's addresses (POD and POD6) and a policy revision. */
static void endpoint_at(uint32_t id, uint32_t identity, uint32_t flags, uint32_t revision)
{
	struct weir_endpoint ep = { .endpoint_id = id, .identity = identity,
				    .flags = flags | WEIR_EP_HAS_IPV4 | WEIR_EP_HAS_IPV6, .policy_revision = revision };
	inet_pton(AF_INET, "198.18.0.2", ep.ipv4);
	inet_pton(AF_INET6, POD6, ep.ipv6);
	int err = weir_endpoint_register(dp, LO, &ep);
	CHECK(err == 0, "register: %s", weir_last_error());
}

static void endpoint(uint32_t id, uint32_t identity, uint32_t flags)
{
	endpoint_at(id, identity, flags, 1);
}

struct events {
	uint8_t buf[1 << 16];
	struct weir_flow_event *ev[64];
	const uint8_t *payload[64];
	int n;
};

static void drain(struct events *out)
{
	memset(out, 0, sizeof(*out));
	int bytes = weir_events_drain(dp, out->buf, sizeof(out->buf), 64, 0);
	CHECK(bytes >= 0, "drain: %s", weir_last_error());
	for (int off = 0; off < bytes && out->n < 64;) {
		struct weir_record_header *h = (struct weir_record_header *)(out->buf + off);
		struct weir_flow_event *ev = (struct weir_flow_event *)(out->buf + off + sizeof(*h));
		out->payload[out->n] = (const uint8_t *)ev + sizeof(*ev);
		out->ev[out->n++] = ev;
		off += sizeof(*h) + ((h->length + 7) & ~7U);
	}
}

static int run(int program, const struct flow_spec *f)
{
	struct packet p;
	build_packet(&p, f);
	int rc = weir_test_run(dp, program, p.data, p.len, LO, 1, NULL);
	CHECK(rc >= 0, "test run: %s", weir_last_error());
	return rc;
}

static uint64_t counter(uint8_t verdict, uint8_t reason, uint8_t direction)
{
	return packets_counted(dp, verdict, reason, direction);
}

static void fresh(const char *name)
{
	current = name;
	if (dp)
		weir_close(dp);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pin_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not clean %s\n", pin_root);
	dp = NULL;
}

static void open_datapath(const char *object)
{
	struct weir_options options = { .object_path = object, .pin_root = pin_root };
	int err;
	dp = weir_open(&options, &err);
	if (!dp) {
		fprintf(stderr, "FATAL: cannot load the datapath (%d): %s\n", err, weir_last_error());
		exit(2);
	}
}

/* Addresses from the benchmarking range 198.18.0.0/15; the pod is 198.18.0.2. */
#define POD "198.18.0.2"
#define PEER "198.18.0.1"
#define OTHER "198.18.0.3"
#define UNKNOWN "198.19.255.1"
#define POD_ID 300
#define PEER_ID 400
#define OTHER_ID 401
#define EP 10

static void setup(const char *object, const char *name, uint32_t flags)
{
	fresh(name);
	open_datapath(object);
	endpoint(EP, POD_ID, flags);
	ipcache(4, POD, 32, POD_ID);
	ipcache(4, PEER, 32, PEER_ID);
	ipcache(4, OTHER, 32, OTHER_ID);
	ipcache(6, "2001:db8::1", 128, PEER_ID);
	ipcache(6, "2001:db8::2", 128, POD_ID);
}

static struct flow_spec syn(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	return (struct flow_spec){ .family = 4, .src = src, .dst = dst, .protocol = IPPROTO_TCP, .sport = sport,
				   .dport = dport, .tcp_flags = WEIR_TCP_SYN };
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_allowed(const char *object)
{
	setup(object, "allowed", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 7);
	struct flow_spec f = syn(PEER, POD, 40000, 80);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct events e;
	drain(&e);
	EQ(e.n, 1);
	if (e.n < 1)
		return;
	struct weir_flow_event *ev = e.ev[0];
	EQ(ev->header.version, WEIR_EVENT_VERSION);
	EQ(ev->header.type, WEIR_EVENT_NEW_CONNECTION);
	EQ(ev->header.length, sizeof(*ev));
	EQ(ev->verdict, WEIR_VERDICT_FORWARDED);
	EQ(ev->drop_reason, WEIR_DROP_NONE);
	EQ(ev->direction, WEIR_DIR_INGRESS);
	EQ(ev->trace_point, WEIR_TRACE_TO_ENDPOINT);
	EQ(ev->match_type, WEIR_MATCH_L3_L4);
	EQ(ev->policy_cookie, 7);
	EQ(ev->src_identity, PEER_ID);
	EQ(ev->dst_identity, POD_ID);
	EQ(ev->endpoint_id, EP);
	EQ(ev->ifindex, LO);
	EQ(ev->family, WEIR_FAMILY_IPV4);
	EQ(ev->protocol, IPPROTO_TCP);
	EQ(ev->sport, 40000);
	EQ(ev->dport, 80);
	EQ(ev->tcp_flags, WEIR_TCP_SYN);
	EQ(ev->is_reply, 0);
	uint8_t peer[4];
	inet_pton(AF_INET, PEER, peer);
	CHECK(memcmp(ev->saddr, peer, 4) == 0, "source address");
	CHECK(ev->timestamp_ns > 0, "timestamp");
	EQ(counter(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, WEIR_DIR_INGRESS), 1);

	/* The same connection's next packet passes on conntrack, without a new event. */
	f.tcp_flags = WEIR_TCP_ACK;
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	drain(&e);
	EQ(e.n, 0);
	EQ(weir_ct_count(dp), 1);
}

static void test_denied_by_default(const char *object)
{
	setup(object, "denied-by-default", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 7);
	struct flow_spec f = syn(OTHER, POD, 40001, 80);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_SHOT);
	struct events e;
	drain(&e);
	EQ(e.n, 1);
	if (e.n < 1)
		return;
	EQ(e.ev[0]->header.type, WEIR_EVENT_DROP);
	EQ(e.ev[0]->verdict, WEIR_VERDICT_DROPPED);
	EQ(e.ev[0]->drop_reason, WEIR_DROP_POLICY_DENIED);
	EQ(e.ev[0]->match_type, WEIR_MATCH_NONE);
	EQ(e.ev[0]->src_identity, OTHER_ID);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENIED, WEIR_DIR_INGRESS), 1);
	EQ(weir_ct_count(dp), 0);
	/* A dropped first packet opens nothing: the next one is judged again. */
	EQ(run(TO_ENDPOINT, &f), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENIED, WEIR_DIR_INGRESS), 2);
}

static void test_explicit_deny_wins(const char *object)
{
	setup(object, "explicit-deny", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, WEIR_IDENTITY_ANY, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 5);       /* anyone on 80 */
	policy(EP, OTHER_ID, WEIR_PORT_ANY, WEIR_PROTO_ANY, WEIR_DIR_INGRESS, 1, 9); /* but not OTHER */
	struct flow_spec denied = syn(OTHER, POD, 40002, 80);
	EQ(run(TO_ENDPOINT, &denied), TC_ACT_SHOT);
	struct events e;
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1) {
		EQ(e.ev[0]->drop_reason, WEIR_DROP_POLICY_DENY);
		EQ(e.ev[0]->policy_cookie, 9);
		EQ(e.ev[0]->match_type, WEIR_MATCH_L3_ONLY);
	}
	struct flow_spec allowed = syn(PEER, POD, 40003, 80);
	EQ(run(TO_ENDPOINT, &allowed), TC_ACT_OK);
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1) {
		EQ(e.ev[0]->match_type, WEIR_MATCH_L4_ONLY);
		EQ(e.ev[0]->policy_cookie, 5);
	}
	/* A deny applies even where no policy isolates the endpoint. */
	endpoint(EP, POD_ID, 0);
	denied.sport = 40004;
	EQ(run(TO_ENDPOINT, &denied), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_POLICY_DENY, WEIR_DIR_INGRESS), 2);
}

static void test_reply_of_allowed_connection(const char *object)
{
	setup(object, "reply", WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 7);
	struct flow_spec request = syn(PEER, POD, 40010, 80);
	EQ(run(TO_ENDPOINT, &request), TC_ACT_OK);
	/* The pod's answer leaves through its default-deny egress: a reply passes. */
	struct flow_spec reply = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_TCP, .sport = 80,
				   .dport = 40010, .tcp_flags = WEIR_TCP_SYN | WEIR_TCP_ACK };
	EQ(run(FROM_ENDPOINT, &reply), TC_ACT_OK);
	/* But the pod opening a connection of its own to the same peer is egress-denied. */
	struct flow_spec own = syn(POD, PEER, 40011, 80);
	EQ(run(FROM_ENDPOINT, &own), TC_ACT_SHOT);
	struct events e;
	drain(&e);
	EQ(e.n, 2); /* the new connection, then the egress drop; a reply emits nothing */
	if (e.n >= 2) {
		EQ(e.ev[1]->direction, WEIR_DIR_EGRESS);
		EQ(e.ev[1]->trace_point, WEIR_TRACE_FROM_ENDPOINT);
		EQ(e.ev[1]->drop_reason, WEIR_DROP_POLICY_DENIED);
		EQ(e.ev[1]->src_identity, POD_ID);
		EQ(e.ev[1]->dst_identity, PEER_ID);
	}
	/* The FIN of the allowed connection closes it and says so. */
	reply.tcp_flags = WEIR_TCP_FIN | WEIR_TCP_ACK;
	EQ(run(FROM_ENDPOINT, &reply), TC_ACT_OK);
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1) {
		EQ(e.ev[0]->header.type, WEIR_EVENT_CONNECTION_CLOSE);
		EQ(e.ev[0]->is_reply, 1);
		EQ(e.ev[0]->tcp_flags, WEIR_TCP_FIN | WEIR_TCP_ACK);
	}
	EQ(counter(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, WEIR_DIR_EGRESS), 2);
}

static void test_port_wildcard(const char *object)
{
	setup(object, "port-wildcard", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, WEIR_PORT_ANY, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 11);
	struct flow_spec f = syn(PEER, POD, 40020, 8080);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct flow_spec udp = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 40021,
				 .dport = 8080 };
	EQ(run(TO_ENDPOINT, &udp), TC_ACT_SHOT); /* the wildcard is for TCP only */
	struct events e;
	drain(&e);
	EQ(e.n, 2);
	if (e.n >= 1) {
		EQ(e.ev[0]->match_type, WEIR_MATCH_L3_ONLY);
		EQ(e.ev[0]->policy_cookie, 11);
	}
}

static void test_identity_wildcard(const char *object)
{
	setup(object, "identity-wildcard", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, WEIR_IDENTITY_ANY, 443, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 12);
	struct flow_spec f = syn(UNKNOWN, POD, 40030, 443); /* not in the ipcache: world */
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct flow_spec other = syn(UNKNOWN, POD, 40031, 444);
	EQ(run(TO_ENDPOINT, &other), TC_ACT_SHOT);
	struct events e;
	drain(&e);
	EQ(e.n, 2);
	if (e.n >= 1) {
		EQ(e.ev[0]->src_identity, WEIR_IDENTITY_WORLD);
		EQ(e.ev[0]->match_type, WEIR_MATCH_L4_ONLY);
		EQ(e.ev[0]->policy_cookie, 12);
	}
}

static void test_not_isolated(const char *object)
{
	setup(object, "not-isolated", WEIR_EP_EGRESS_ISOLATED);
	struct flow_spec f = syn(OTHER, POD, 40040, 9999);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct events e;
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1)
		EQ(e.ev[0]->match_type, WEIR_MATCH_NOT_ISOLATED);
}

static void test_truncated(const char *object)
{
	setup(object, "truncated", WEIR_EP_INGRESS_ISOLATED);
	struct flow_spec f = syn(PEER, POD, 40050, 80);
	struct packet p;
	build_packet(&p, &f);
	/* A full IPv4 header and 4 bytes of TCP header. (BPF_PROG_RUN itself refuses frames shorter
	 * than Ethernet plus an IPv4 header, so shorter cuts cannot reach the program here.) */
	EQ(weir_test_run(dp, 1, p.data, 14 + 20 + 4, LO, 1, NULL), TC_ACT_SHOT);
	struct flow_spec u = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 1, .dport = 53 };
	struct packet q;
	build_packet(&q, &u);
	EQ(weir_test_run(dp, 1, q.data, 14 + 20 + 6, LO, 1, NULL), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_PACKET, WEIR_DIR_INGRESS), 2);
	struct events e;
	drain(&e);
	EQ(e.n, 2);
	if (e.n >= 1) {
		EQ(e.ev[0]->header.type, WEIR_EVENT_DROP);
		EQ(e.ev[0]->drop_reason, WEIR_DROP_INVALID_PACKET);
	}
	/* An IPv4 header that claims options it does not have. */
	p.data[14] = 0x4f; /* ihl 15: 60 bytes of header in a 54-byte packet */
	EQ(weir_test_run(dp, 1, p.data, 14 + 20 + 20, LO, 1, NULL), TC_ACT_SHOT);
	/* A total length shorter than its own header. */
	build_packet(&p, &f);
	p.data[16] = 0;
	p.data[17] = 12;
	EQ(weir_test_run(dp, 1, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	/* IPv6 announcing a hop-by-hop header that is cut short. */
	struct flow_spec v6 = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2", .protocol = 0 /* HOPOPTS */,
				.sport = 1, .dport = 2 };
	build_packet(&p, &v6);
	EQ(weir_test_run(dp, 1, p.data, 14 + 40 + 4, LO, 1, NULL), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_PACKET, WEIR_DIR_INGRESS), 5);
	/* Whatever was cut, nothing was let through and nothing was tracked. */
	EQ(weir_ct_count(dp), 0);
}

/* An ICMPv6 message of a type with a hop limit set in the IPv6 header (byte 7 of it). */
static int run_hop_limit(int program, const char *src, const char *dst, uint8_t type, uint8_t hop_limit)
{
	struct flow_spec f = { .family = 6, .src = src, .dst = dst, .protocol = 58, .icmp_type = type };
	struct packet p;
	build_packet(&p, &f);
	p.data[14 + 7] = hop_limit;
	int rc = weir_test_run(dp, program, p.data, p.len, LO, 1, NULL);
	CHECK(rc >= 0, "test run: %s", weir_last_error());
	return rc;
}

static void test_ipv6(const char *object)
{
	setup(object, "ipv6", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 13);
	struct flow_spec f = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2", .protocol = IPPROTO_TCP,
			       .sport = 40060, .dport = 80, .tcp_flags = WEIR_TCP_SYN };
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct flow_spec denied = f;
	denied.src = "2001:db8::99";
	EQ(run(TO_ENDPOINT, &denied), TC_ACT_SHOT);
	/* Neighbour discovery and MLD on the link pass whatever the policy ... */
	EQ(run_hop_limit(TO_ENDPOINT, "fe80::1", "ff02::1:ff00:2", 135, 255), TC_ACT_OK);
	EQ(run_hop_limit(TO_ENDPOINT, "fe80::1", "fe80::2", 136, 255), TC_ACT_OK);
	EQ(run_hop_limit(FROM_ENDPOINT, "::", "ff02::16", 143, 1), TC_ACT_OK); /* an MLDv2 report */
	struct events e;
	drain(&e);
	EQ(e.n, 2); /* the connection and the drop; link control emits nothing */
	if (e.n >= 2) {
		EQ(e.ev[0]->family, WEIR_FAMILY_IPV6);
		EQ(e.ev[0]->src_identity, PEER_ID);
		EQ(e.ev[0]->policy_cookie, 13);
		uint8_t addr[16];
		inet_pton(AF_INET6, "2001:db8::2", addr);
		CHECK(memcmp(e.ev[0]->daddr, addr, 16) == 0, "IPv6 destination");
		EQ(e.ev[1]->drop_reason, WEIR_DROP_POLICY_DENIED);
		EQ(e.ev[1]->src_identity, WEIR_IDENTITY_WORLD);
	}
	/* ... but not ND or MLD types off the link, or with another hop limit: ordinary ICMPv6, judged. */
	EQ(run_hop_limit(TO_ENDPOINT, "2001:db8::99", "2001:db8::2", 135, 255), TC_ACT_SHOT);
	EQ(run_hop_limit(TO_ENDPOINT, "fe80::1", "fe80::2", 135, 64), TC_ACT_SHOT);
	EQ(run_hop_limit(FROM_ENDPOINT, "fe80::66", "2001:db8::7", 135, 255), TC_ACT_SHOT); /* not its own */
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_SOURCE_IP, WEIR_DIR_EGRESS), 1);
}

/* "example.com. A?" with id 0x1234, and its answer 198.18.0.99. */
static const uint8_t dns_query[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
				     0,    0x00, 0x01, 0x00, 0x01 };
static const uint8_t dns_response[] = { 0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
					7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
					0,    0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00,
					0x00, 0x00, 0x3c, 0x00, 0x04, 198,  18,   0,    99 };

static void test_dns(const char *object)
{
	setup(object, "dns", WEIR_EP_EGRESS_ISOLATED);
	policy(EP, PEER_ID, 53, IPPROTO_UDP, WEIR_DIR_EGRESS, 0, 21);
	struct flow_spec query = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_UDP, .sport = 45000,
				   .dport = 53, .payload = dns_query, .payload_len = sizeof(dns_query) };
	EQ(run(FROM_ENDPOINT, &query), TC_ACT_OK);
	struct flow_spec response = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 53,
				      .dport = 45000, .payload = dns_response, .payload_len = sizeof(dns_response) };
	EQ(run(TO_ENDPOINT, &response), TC_ACT_OK);
	struct events e;
	drain(&e);
	EQ(e.n, 3); /* new connection, DNS query, DNS response */
	if (e.n < 3)
		return;
	EQ(e.ev[0]->header.type, WEIR_EVENT_NEW_CONNECTION);
	EQ(e.ev[1]->header.type, WEIR_EVENT_DNS);
	EQ(e.ev[1]->payload_length, sizeof(dns_query));
	EQ(e.ev[1]->header.length, sizeof(struct weir_flow_event) + sizeof(dns_query));
	EQ(e.ev[1]->payload_offset, 14 + 20 + 8);
	EQ(e.ev[1]->is_reply, 0);
	CHECK(memcmp(e.payload[1], dns_query, sizeof(dns_query)) == 0, "query payload");
	EQ(e.ev[2]->header.type, WEIR_EVENT_DNS);
	EQ(e.ev[2]->is_reply, 1);
	EQ(e.ev[2]->payload_length, sizeof(dns_response));
	EQ(e.ev[2]->sport, 53);
	CHECK(memcmp(e.payload[2], dns_response, sizeof(dns_response)) == 0, "response payload");
	/* A DNS query the policy does not allow is dropped, and the drop says it was DNS's port. */
	struct flow_spec blocked = query;
	blocked.dst = OTHER;
	EQ(run(FROM_ENDPOINT, &blocked), TC_ACT_SHOT);
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1) {
		EQ(e.ev[0]->dport, 53);
		EQ(e.ev[0]->drop_reason, WEIR_DROP_POLICY_DENIED);
	}
}

static void test_dns_over_tcp_and_sctp(const char *object)
{
	setup(object, "dns-tcp-sctp", WEIR_EP_EGRESS_ISOLATED | WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, 53, IPPROTO_TCP, WEIR_DIR_EGRESS, 0, 22);
	policy(EP, PEER_ID, 80, 132, WEIR_DIR_INGRESS, 0, 23);
	/* DNS over TCP: a two-byte length, then the message. */
	uint8_t framed[2 + sizeof(dns_query)] = { 0, sizeof(dns_query) };
	memcpy(framed + 2, dns_query, sizeof(dns_query));
	struct flow_spec syn53 = syn(POD, PEER, 45001, 53);
	EQ(run(FROM_ENDPOINT, &syn53), TC_ACT_OK);
	struct flow_spec data = syn53;
	data.tcp_flags = WEIR_TCP_ACK | WEIR_TCP_PSH;
	data.payload = framed;
	data.payload_len = sizeof(framed);
	EQ(run(FROM_ENDPOINT, &data), TC_ACT_OK);
	struct events e;
	drain(&e);
	EQ(e.n, 2); /* the SYN opens the connection (no payload, no DNS event); the query is DNS */
	if (e.n >= 2) {
		EQ(e.ev[1]->header.type, WEIR_EVENT_DNS);
		EQ(e.ev[1]->protocol, IPPROTO_TCP);
		EQ(e.ev[1]->payload_length, sizeof(framed));
		CHECK(memcmp(e.payload[1], framed, sizeof(framed)) == 0, "framed query payload");
	}
	/* SCTP: parsed for its ports, judged by the protocol's own entry. */
	struct flow_spec sctp = { .family = 4, .src = PEER, .dst = POD, .protocol = 132, .sport = 5000, .dport = 80 };
	EQ(run(TO_ENDPOINT, &sctp), TC_ACT_OK);
	sctp.dport = 81;
	EQ(run(TO_ENDPOINT, &sctp), TC_ACT_SHOT);
	drain(&e);
	EQ(e.n, 2);
	if (e.n >= 2) {
		EQ(e.ev[0]->protocol, 132);
		EQ(e.ev[0]->dport, 80);
		EQ(e.ev[0]->policy_cookie, 23);
		EQ(e.ev[1]->drop_reason, WEIR_DROP_POLICY_DENIED);
	}
}

static void test_unknown_interface_fails_closed(const char *object)
{
	fresh("unknown-interface");
	open_datapath(object);
	struct flow_spec f = syn(PEER, POD, 40070, 80);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_NO_ENDPOINT, WEIR_DIR_INGRESS), 1);
}

static void test_adopts_pinned_maps(const char *object)
{
	setup(object, "adopt", WEIR_EP_INGRESS_ISOLATED);
	CHECK(!weir_adopted(dp), "first open creates");
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 7);
	weir_close(dp);
	open_datapath(object); /* a restarted agent */
	CHECK(weir_adopted(dp), "second open adopts");
	uint32_t entries = 0, capacity = 0;
	EQ(weir_policy_usage(dp, EP, &entries, &capacity), 0);
	EQ(entries, 1);
	EQ(capacity, WEIR_POLICY_ENTRIES_DEFAULT);
	struct flow_spec f = syn(PEER, POD, 40080, 80);
	EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	struct flow_spec g = syn(OTHER, POD, 40081, 80);
	EQ(run(TO_ENDPOINT, &g), TC_ACT_SHOT);
}

static void test_batch_and_delete(const char *object)
{
	setup(object, "batch", WEIR_EP_INGRESS_ISOLATED);
	enum { N = 5000 };
	static struct weir_policy_key keys[N];
	static struct weir_policy_entry entries[N];
	for (int i = 0; i < N; i++) {
		keys[i] = policy_key(1000 + i, 80, IPPROTO_TCP, WEIR_DIR_INGRESS);
		entries[i] = (struct weir_policy_entry){ .cookie = i, .prefixlen = keys[i].prefixlen };
	}
	EQ(weir_policy_upsert(dp, EP, keys, entries, N), N);
	uint32_t count = 0;
	weir_policy_usage(dp, EP, &count, NULL);
	EQ(count, N);
	EQ(weir_policy_delete(dp, EP, keys, N / 2), N / 2);
	weir_policy_usage(dp, EP, &count, NULL);
	EQ(count, N - N / 2);
}

/* ---- attacks and faults ------------------------------------------------------------------------ */

static void test_spoofed_source_dropped(const char *object)
{
	setup(object, "spoofed-source", 0);
	/* Not isolated at all, and still: a pod sends only from its own address. */
	struct flow_spec udp = { .family = 4, .src = OTHER, .dst = PEER, .protocol = IPPROTO_UDP, .sport = 5000,
				 .dport = 5000 };
	EQ(run(FROM_ENDPOINT, &udp), TC_ACT_SHOT);
	struct flow_spec tcp = syn(PEER, OTHER, 40100, 80); /* another pod's address, blind SYN */
	tcp.src = OTHER;
	tcp.dst = PEER;
	EQ(run(FROM_ENDPOINT, &tcp), TC_ACT_SHOT);
	struct flow_spec v6 = { .family = 6, .src = "2001:db8::1", .dst = "2001:db8::2", .protocol = IPPROTO_UDP,
				.sport = 1, .dport = 2 };
	v6.dst = "2001:db8::7";
	EQ(run(FROM_ENDPOINT, &v6), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_INVALID_SOURCE_IP, WEIR_DIR_EGRESS), 3);
	struct events e;
	drain(&e);
	EQ(e.n, 3);
	if (e.n >= 1) {
		EQ(e.ev[0]->drop_reason, WEIR_DROP_INVALID_SOURCE_IP);
		EQ(e.ev[0]->trace_point, WEIR_TRACE_FROM_ENDPOINT);
	}
	EQ(weir_ct_count(dp), 0);
	/* Its own addresses pass, IPv4 and IPv6. */
	udp.src = POD;
	EQ(run(FROM_ENDPOINT, &udp), TC_ACT_OK);
	v6.src = POD6;
	EQ(run(FROM_ENDPOINT, &v6), TC_ACT_OK);
	/* Audit mode does not let a forged source through either. */
	endpoint(EP, POD_ID, WEIR_EP_AUDIT);
	udp.src = OTHER;
	EQ(run(FROM_ENDPOINT, &udp), TC_ACT_SHOT);
	/* An endpoint without an IPv6 address sends no IPv6. */
	struct weir_endpoint v4only = { .endpoint_id = EP, .identity = POD_ID, .flags = WEIR_EP_HAS_IPV4 };
	inet_pton(AF_INET, POD, v4only.ipv4);
	EQ(weir_endpoint_register(dp, LO, &v4only), 0);
	EQ(run(FROM_ENDPOINT, &v6), TC_ACT_SHOT);
}

static void resolvers(const char *addr)
{
	struct weir_addr_key key = { .family = WEIR_FAMILY_IPV4 };
	inet_pton(AF_INET, addr, key.addr);
	EQ(weir_resolvers_set(dp, &key, 1), 1);
}

static void test_closed_until_told(const char *object)
{
	setup(object, "closed-until-told", WEIR_EP_AWAITING_POLICY);
	resolvers(PEER);
	struct flow_spec query = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_UDP, .sport = 45100,
				   .dport = 53, .payload = dns_query, .payload_len = sizeof(dns_query) };
	EQ(run(FROM_ENDPOINT, &query), TC_ACT_OK);
	struct flow_spec answer = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 53,
				    .dport = 45100, .payload = dns_response, .payload_len = sizeof(dns_response) };
	EQ(run(TO_ENDPOINT, &answer), TC_ACT_OK);
	/* DNS to anyone else, anything else to the resolver, anything coming in: closed. */
	struct flow_spec elsewhere = query;
	elsewhere.dst = OTHER;
	EQ(run(FROM_ENDPOINT, &elsewhere), TC_ACT_SHOT);
	struct flow_spec web = syn(POD, PEER, 45101, 80);
	EQ(run(FROM_ENDPOINT, &web), TC_ACT_SHOT);
	struct flow_spec in = syn(PEER, POD, 45102, 80);
	EQ(run(TO_ENDPOINT, &in), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_AWAITING_POLICY, WEIR_DIR_EGRESS), 2);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_AWAITING_POLICY, WEIR_DIR_INGRESS), 1);
	/* Told "no policy selects you": open, from the next packet on. */
	endpoint_at(EP, POD_ID, 0, 2);
	in.sport = 45103;
	EQ(run(TO_ENDPOINT, &in), TC_ACT_OK);
	/* A resolver no longer listed is no longer one. */
	resolvers(OTHER);
	endpoint_at(EP, POD_ID, WEIR_EP_AWAITING_POLICY, 3);
	query.sport = 45104;
	EQ(run(FROM_ENDPOINT, &query), TC_ACT_SHOT);
}

static void test_revoked_allow_ends_connections(const char *object)
{
	setup(object, "revoked-allow", WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED);
	policy(EP, PEER_ID, 5000, IPPROTO_UDP, WEIR_DIR_INGRESS, 0, 31);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 32);
	struct flow_spec stream = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 6000,
				    .dport = 5000 };
	struct flow_spec syn80 = syn(PEER, POD, 40200, 80);
	struct flow_spec synack = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_TCP, .sport = 80,
				    .dport = 40200, .tcp_flags = WEIR_TCP_SYN | WEIR_TCP_ACK };
	struct flow_spec ack = syn80;
	ack.tcp_flags = WEIR_TCP_ACK;
	EQ(run(TO_ENDPOINT, &stream), TC_ACT_OK);
	EQ(run(TO_ENDPOINT, &syn80), TC_ACT_OK);
	EQ(run(FROM_ENDPOINT, &synack), TC_ACT_OK);
	EQ(run(TO_ENDPOINT, &ack), TC_ACT_OK);
	/* A new revision that still allows TCP but not the UDP stream: entries first, then the revision. */
	policy_remove(EP, PEER_ID, 5000, IPPROTO_UDP, WEIR_DIR_INGRESS);
	EQ(run(TO_ENDPOINT, &stream), TC_ACT_OK); /* the revision is not applied until the endpoint says so */
	endpoint_at(EP, POD_ID, WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED, 2);
	struct events e;
	drain(&e);
	EQ(run(TO_ENDPOINT, &stream), TC_ACT_SHOT);
	EQ(run(TO_ENDPOINT, &ack), TC_ACT_OK);       /* still allowed: judged again and kept */
	EQ(run(FROM_ENDPOINT, &synack), TC_ACT_OK);  /* its replies too */
	drain(&e);
	EQ(e.n, 1);
	if (e.n >= 1) {
		EQ(e.ev[0]->drop_reason, WEIR_DROP_POLICY_DENIED);
		EQ(e.ev[0]->dport, 5000);
	}
	/* The stream's next packet, from the same source port, is a new connection, and denied. */
	EQ(run(TO_ENDPOINT, &stream), TC_ACT_SHOT);
	/* Now TCP goes: the established connection's next packet, and its replies, stop. */
	policy_remove(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS);
	endpoint_at(EP, POD_ID, WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED, 3);
	EQ(run(FROM_ENDPOINT, &synack), TC_ACT_SHOT);
	EQ(run(TO_ENDPOINT, &ack), TC_ACT_SHOT);
	EQ(run(TO_ENDPOINT, &syn80), TC_ACT_SHOT); /* and a reconnect on the same tuple */
	EQ(weir_ct_count(dp), 0);
	EQ(weir_health_read(dp, WEIR_HEALTH_CT_REVOKED), 2);
	/* A peer that changes identity is judged again too. */
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 33);
	endpoint_at(EP, POD_ID, WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED, 4);
	syn80.sport = ack.sport = 40201;
	EQ(run(TO_ENDPOINT, &syn80), TC_ACT_OK);
	ipcache(4, PEER, 32, OTHER_ID);
	EQ(run(TO_ENDPOINT, &ack), TC_ACT_SHOT);
}

static void test_rst_and_fin_end_only_their_connection(const char *object)
{
	setup(object, "rst-fin", WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 41);
	struct flow_spec syn80 = syn(PEER, POD, 40300, 80);
	struct flow_spec synack = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_TCP, .sport = 80,
				    .dport = 40300, .tcp_flags = WEIR_TCP_SYN | WEIR_TCP_ACK };
	EQ(run(TO_ENDPOINT, &syn80), TC_ACT_OK);
	EQ(run(FROM_ENDPOINT, &synack), TC_ACT_OK);
	/* A forged RST with the connection's tuple: it passes, as part of its connection ... */
	struct flow_spec rst = syn80;
	rst.tcp_flags = WEIR_TCP_RST;
	EQ(run(TO_ENDPOINT, &rst), TC_ACT_OK);
	EQ(weir_ct_count(dp), 1);
	/* ... and the connection, which goes on, is not ended by it. */
	struct flow_spec data = synack;
	data.tcp_flags = WEIR_TCP_ACK | WEIR_TCP_PSH;
	EQ(run(FROM_ENDPOINT, &data), TC_ACT_OK);
	uint64_t now = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * WEIR_NSEC_PER_SEC + ts.tv_nsec;
	EQ(weir_ct_gc(dp, now + 11 * WEIR_NSEC_PER_SEC, NULL), 0);
	/* A real RST that nothing follows: closing, gone after the closing lifetime, not at once. */
	EQ(run(TO_ENDPOINT, &rst), TC_ACT_OK);
	EQ(weir_ct_gc(dp, now + 5 * WEIR_NSEC_PER_SEC, NULL), 0);
	EQ(weir_ct_gc(dp, now + 11 * WEIR_NSEC_PER_SEC, NULL), 1);
	/* An RST, an ACK or a FIN out of nowhere opens nothing, even where policy would allow a SYN. */
	struct flow_spec stray = syn(PEER, POD, 40301, 80);
	stray.tcp_flags = WEIR_TCP_RST;
	EQ(run(TO_ENDPOINT, &stray), TC_ACT_OK);
	stray.tcp_flags = WEIR_TCP_ACK;
	EQ(run(TO_ENDPOINT, &stray), TC_ACT_OK);
	EQ(weir_ct_count(dp), 0);
	struct flow_spec back = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_TCP, .sport = 80,
				  .dport = 40301, .tcp_flags = WEIR_TCP_ACK };
	EQ(run(FROM_ENDPOINT, &back), TC_ACT_SHOT); /* no "reply" to it gets out */
}

static void test_conntrack_lifetimes(const char *object)
{
	setup(object, "ct-lifetimes", 0);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * WEIR_NSEC_PER_SEC + ts.tv_nsec;
	struct flow_spec udp = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 7000,
				 .dport = 7000 };
	struct flow_spec unanswered = syn(PEER, POD, 40400, 80);
	struct flow_spec answered = syn(PEER, POD, 40401, 80);
	struct flow_spec synack = { .family = 4, .src = POD, .dst = PEER, .protocol = IPPROTO_TCP, .sport = 80,
				    .dport = 40401, .tcp_flags = WEIR_TCP_SYN | WEIR_TCP_ACK };
	EQ(run(TO_ENDPOINT, &udp), TC_ACT_OK);
	EQ(run(TO_ENDPOINT, &unanswered), TC_ACT_OK);
	EQ(run(TO_ENDPOINT, &answered), TC_ACT_OK);
	EQ(run(FROM_ENDPOINT, &synack), TC_ACT_OK);
	EQ(weir_ct_count(dp), 3);
	uint64_t scanned = 0;
	EQ(weir_ct_gc(dp, now + 30 * WEIR_NSEC_PER_SEC, &scanned), 0);
	EQ(scanned, 3);
	EQ(weir_ct_gc(dp, now + 61 * WEIR_NSEC_PER_SEC, NULL), 2); /* UDP and the unanswered SYN */
	EQ(weir_ct_count(dp), 1);
	EQ(weir_ct_gc(dp, now + 21601 * WEIR_NSEC_PER_SEC, NULL), 1);
	EQ(weir_ct_count(dp), 0);
}

static void test_port_ranges(const char *object)
{
	setup(object, "port-ranges", WEIR_EP_INGRESS_ISOLATED);
	/* Kubernetes' documentation's own example: port 32000, endPort 32768. */
	int entries = policy_range(EP, PEER_ID, 32000, 32768, IPPROTO_TCP, WEIR_DIR_INGRESS, 0, 51);
	CHECK(entries <= 16, "32000-32768 took %d entries", entries);
	uint16_t allowed[] = { 32000, 32001, 32255, 32256, 32767, 32768 };
	uint16_t denied[] = { 31999, 32769, 80, 65535 };
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		struct flow_spec f = syn(PEER, POD, 40500 + i, allowed[i]);
		EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		struct flow_spec f = syn(PEER, POD, 40600 + i, denied[i]);
		EQ(run(TO_ENDPOINT, &f), TC_ACT_SHOT);
	}
	struct events e;
	drain(&e);
	if (e.n >= 1) {
		EQ(e.ev[0]->match_type, WEIR_MATCH_L3_L4);
		EQ(e.ev[0]->policy_cookie, 51);
	}
	/* 1-65535 for UDP from anyone: 16 entries. */
	EQ(policy_range(EP, WEIR_IDENTITY_ANY, 1, 65535, IPPROTO_UDP, WEIR_DIR_INGRESS, 0, 52), 16);
	struct flow_spec u = { .family = 4, .src = UNKNOWN, .dst = POD, .protocol = IPPROTO_UDP, .sport = 9,
			       .dport = 1 };
	EQ(run(TO_ENDPOINT, &u), TC_ACT_OK);
	u.dport = 65535;
	EQ(run(TO_ENDPOINT, &u), TC_ACT_OK);
	drain(&e);
	/* A deny range inside an allow range: the deny's ports drop, their neighbours pass. */
	policy_range(EP, PEER_ID, 32100, 32199, IPPROTO_TCP, WEIR_DIR_INGRESS, 1, 53);
	struct flow_spec in_deny = syn(PEER, POD, 40700, 32150);
	EQ(run(TO_ENDPOINT, &in_deny), TC_ACT_SHOT);
	struct flow_spec beside = syn(PEER, POD, 40701, 32200);
	EQ(run(TO_ENDPOINT, &beside), TC_ACT_OK);
	drain(&e);
	EQ(e.n, 2);
	if (e.n >= 1) {
		EQ(e.ev[0]->drop_reason, WEIR_DROP_POLICY_DENY);
		EQ(e.ev[0]->policy_cookie, 53);
	}
	/* A deny for any identity wins over the specific identity's allow. */
	policy(EP, WEIR_IDENTITY_ANY, 32001, IPPROTO_TCP, WEIR_DIR_INGRESS, 1, 54);
	struct flow_spec any_deny = syn(PEER, POD, 40702, 32001);
	EQ(run(TO_ENDPOINT, &any_deny), TC_ACT_SHOT);
}

static void icmp_error(struct packet *p, const char *from, const char *to, uint8_t type, uint8_t code,
		       const char *inner_src, const char *inner_dst, uint8_t inner_proto, uint16_t sport,
		       uint16_t dport)
{
	uint8_t quote[28];
	build_icmp_quote(quote, inner_src, inner_dst, inner_proto, sport, dport);
	struct flow_spec f = { .family = 4, .src = from, .dst = to, .protocol = IPPROTO_ICMP, .icmp_type = type,
			       .payload = quote, .payload_len = sizeof(quote) };
	build_packet(p, &f);
	p->data[14 + 20 + 1] = code;
}

static void test_icmp_errors_follow_their_connection(const char *object)
{
	setup(object, "icmp-errors", WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED);
	policy(EP, PEER_ID, 80, IPPROTO_TCP, WEIR_DIR_EGRESS, 0, 61);
	struct flow_spec out = syn(POD, PEER, 40800, 80);
	EQ(run(FROM_ENDPOINT, &out), TC_ACT_OK);
	/* "Fragmentation needed" from a router on the way (an address nothing allows in). */
	struct packet p;
	icmp_error(&p, UNKNOWN, POD, 3, 4, POD, PEER, IPPROTO_TCP, 40800, 80);
	EQ(weir_test_run(dp, TO_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_OK);
	EQ(weir_health_read(dp, WEIR_HEALTH_ICMP_RELATED), 1);
	/* About a connection that does not exist: judged as ICMP, and the pod is isolated. */
	icmp_error(&p, UNKNOWN, POD, 3, 4, POD, PEER, IPPROTO_TCP, 40801, 80);
	EQ(weir_test_run(dp, TO_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	/* A quote that names the pod's connection but the other way round is not its connection. */
	icmp_error(&p, UNKNOWN, POD, 3, 4, PEER, POD, IPPROTO_TCP, 80, 40800);
	EQ(weir_test_run(dp, TO_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	/* The pod's own error about a connection it accepted leaves too. */
	policy(EP, PEER_ID, 5353, IPPROTO_UDP, WEIR_DIR_INGRESS, 0, 62);
	struct flow_spec in = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 7001,
				.dport = 5353 };
	EQ(run(TO_ENDPOINT, &in), TC_ACT_OK);
	icmp_error(&p, POD, PEER, 3, 3, PEER, POD, IPPROTO_UDP, 7001, 5353);
	EQ(weir_test_run(dp, FROM_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_OK);
	/* A made-up quote of a tracked connection carries nothing anywhere else: leaving the pod, the
	 * error must go back to the quoted packet's sender, and quote a packet to the pod itself. */
	icmp_error(&p, POD, OTHER, 3, 3, PEER, POD, IPPROTO_UDP, 7001, 5353);
	EQ(weir_test_run(dp, FROM_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	icmp_error(&p, POD, PEER, 3, 3, PEER, OTHER, IPPROTO_UDP, 7001, 5353);
	EQ(weir_test_run(dp, FROM_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	/* Entering it, the quote must be of a packet the pod sent. */
	icmp_error(&p, UNKNOWN, POD, 3, 4, OTHER, PEER, IPPROTO_TCP, 40800, 80);
	EQ(weir_test_run(dp, TO_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
	/* An error whose quote does not parse is judged as ICMP, and never tracked either. */
	struct flow_spec bare = { .family = 4, .src = UNKNOWN, .dst = POD, .protocol = IPPROTO_ICMP, .icmp_type = 3 };
	EQ(run(TO_ENDPOINT, &bare), TC_ACT_SHOT);
	/* Errors never open a connection of their own. */
	EQ(weir_ct_count(dp), 2);
	/* Under a new revision, a connection not judged again yet relates nothing. */
	endpoint_at(EP, POD_ID, WEIR_EP_INGRESS_ISOLATED | WEIR_EP_EGRESS_ISOLATED, 9);
	icmp_error(&p, UNKNOWN, POD, 3, 4, POD, PEER, IPPROTO_TCP, 40800, 80);
	EQ(weir_test_run(dp, TO_ENDPOINT, p.data, p.len, LO, 1, NULL), TC_ACT_SHOT);
}

static void fragment(struct packet *p, uint16_t id, uint16_t frag_off)
{
	p->data[14 + 4] = id >> 8;
	p->data[14 + 5] = id & 0xff;
	p->data[14 + 6] = frag_off >> 8;
	p->data[14 + 7] = frag_off & 0xff;
}

static void test_fragments_follow_their_first(const char *object)
{
	setup(object, "fragments", WEIR_EP_INGRESS_ISOLATED);
	policy(EP, PEER_ID, 5000, IPPROTO_UDP, WEIR_DIR_INGRESS, 0, 71);
	uint8_t payload[64] = { 0 };
	struct flow_spec f = { .family = 4, .src = PEER, .dst = POD, .protocol = IPPROTO_UDP, .sport = 8000,
			       .dport = 5000, .payload = payload, .payload_len = sizeof(payload) };
	struct packet first, later;
	build_packet(&first, &f);
	fragment(&first, 0x1111, 0x2000); /* more fragments, offset 0 */
	EQ(weir_test_run(dp, TO_ENDPOINT, first.data, first.len, LO, 1, NULL), TC_ACT_OK);
	build_packet(&later, &f);
	fragment(&later, 0x1111, 9); /* offset 72 bytes, the last one */
	EQ(weir_test_run(dp, TO_ENDPOINT, later.data, later.len, LO, 1, NULL), TC_ACT_OK);
	/* A later fragment whose first was never seen: dropped, whatever port its bytes suggest. */
	fragment(&later, 0x2222, 9);
	EQ(weir_test_run(dp, TO_ENDPOINT, later.data, later.len, LO, 1, NULL), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_FRAG_NOT_FOUND, WEIR_DIR_INGRESS), 1);
	/* The first fragment of a denied datagram: its followers are dropped as well. */
	f.dport = 5001;
	build_packet(&first, &f);
	fragment(&first, 0x3333, 0x2000);
	EQ(weir_test_run(dp, TO_ENDPOINT, first.data, first.len, LO, 1, NULL), TC_ACT_SHOT);
	build_packet(&later, &f);
	fragment(&later, 0x3333, 9);
	EQ(weir_test_run(dp, TO_ENDPOINT, later.data, later.len, LO, 1, NULL), TC_ACT_SHOT);
}

static void test_endpoints_keep_to_their_own_conntrack(const char *object)
{
	fresh("own-conntrack");
	struct weir_options options = { .object_path = object, .pin_root = pin_root, .ct_entries = 4 };
	int err;
	dp = weir_open(&options, &err);
	CHECK(dp != NULL, "open: %s", weir_last_error());
	if (!dp)
		return;
	ipcache(4, PEER, 32, PEER_ID);
	endpoint(EP, POD_ID, 0);
	for (int i = 0; i < 4; i++) {
		struct flow_spec f = syn(PEER, POD, 41000 + i, 80);
		EQ(run(TO_ENDPOINT, &f), TC_ACT_OK);
	}
	/* Its map is full: its next connection is refused and counted, none of its own is evicted ... */
	struct flow_spec fifth = syn(PEER, POD, 41004, 80);
	EQ(run(TO_ENDPOINT, &fifth), TC_ACT_SHOT);
	EQ(counter(WEIR_VERDICT_DROPPED, WEIR_DROP_CT_INSERT_FAILED, WEIR_DIR_INGRESS), 1);
	EQ(weir_ct_count(dp), 4);
	/* ... and another endpoint still has all its room. */
	endpoint(EP + 1, POD_ID, 0);
	EQ(run(TO_ENDPOINT, &fifth), TC_ACT_OK);
	EQ(weir_ct_count(dp), 5);
	/* A recorded endpoint's maps are not reset under it; a departed one's are. */
	EQ(weir_endpoint_reset_maps(dp, EP + 1), -EBUSY);
	EQ(weir_endpoint_reset_maps(dp, EP), 0);
	EQ(weir_ct_count(dp), 1);
	uint32_t n;
	CHECK(weir_policy_usage(dp, EP, &n, NULL) == -ENOENT, "the departed endpoint's policy map is gone");
}

static void test_refuses_an_older_pinned_layout(const char *object)
{
	fresh("older-pins");
	/* What an older datapath pinned: an endpoints map whose records are 16 bytes. */
	char dir[160], path[192];
	snprintf(dir, sizeof(dir), "mkdir -p %s", pin_root);
	CHECK(system(dir) == 0, "pin root");
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "weir_endpoints", 4, 16, WEIR_MAX_ENDPOINTS, NULL);
	CHECK(fd >= 0, "old map");
	snprintf(path, sizeof(path), "%s/weir_endpoints", pin_root);
	CHECK(bpf_obj_pin(fd, path) == 0, "pin old map");
	close(fd);
	struct weir_options options = { .object_path = object, .pin_root = pin_root };
	int err = 0;
	struct weir_datapath *refused = weir_open(&options, &err);
	CHECK(refused == NULL, "an older layout is not adopted");
	CHECK(strstr(weir_last_error(), "weir_endpoints") && strstr(weir_last_error(), "remove"),
	      "the error names the map and what to do: %s", weir_last_error());
	if (refused)
		weir_close(refused);
}

int main(int argc, char **argv)
{
	const char *object = argc > 1 ? argv[1] : "../bpf/build/weir.bpf.o";
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/weir-test-%d", getpid());
	struct {
		const char *name;
		void (*fn)(const char *);
	} tests[] = {
		{ "allowed", test_allowed },
		{ "denied-by-default", test_denied_by_default },
		{ "explicit-deny", test_explicit_deny_wins },
		{ "reply", test_reply_of_allowed_connection },
		{ "port-wildcard", test_port_wildcard },
		{ "identity-wildcard", test_identity_wildcard },
		{ "not-isolated", test_not_isolated },
		{ "truncated", test_truncated },
		{ "ipv6", test_ipv6 },
		{ "dns", test_dns },
		{ "dns-tcp-sctp", test_dns_over_tcp_and_sctp },
		{ "unknown-interface", test_unknown_interface_fails_closed },
		{ "adopt", test_adopts_pinned_maps },
		{ "batch", test_batch_and_delete },
		{ "spoofed-source", test_spoofed_source_dropped },
		{ "closed-until-told", test_closed_until_told },
		{ "revoked-allow", test_revoked_allow_ends_connections },
		{ "rst-fin", test_rst_and_fin_end_only_their_connection },
		{ "ct-lifetimes", test_conntrack_lifetimes },
		{ "port-ranges", test_port_ranges },
		{ "icmp-errors", test_icmp_errors_follow_their_connection },
		{ "fragments", test_fragments_follow_their_first },
		{ "own-conntrack", test_endpoints_keep_to_their_own_conntrack },
		{ "older-pins", test_refuses_an_older_pinned_layout },
	};
	int passed = 0, failed = 0;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;
		tests[i].fn(object);
		if (failures == before) {
			passed++;
			printf("PASS %s\n", tests[i].name);
		} else {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		}
	}
	fresh("cleanup");
	printf("datapath: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
