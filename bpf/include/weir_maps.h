/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one definition of Weir's BPF map keys and values and of its datapath events.
 * Included by the BPF programs (bpf/), by libweir (agent-native/) and mirrored by the agent's Java
 * codecs, whose layout a test checks against the compiled object's BTF: change a struct here
 * and both sides must follow. Every struct is naturally aligned with explicit padding, so the
 * layout is the same for the BPF target, x86_64 and aarch64.
 */
#ifndef WEIR_MAPS_H
#define WEIR_MAPS_H

#include <linux/types.h>

/* ---- identities -------------------------------------------------------------------------- */

/* Reserved identities (below 256), numbered as Cilium numbers them. */
#define WEIR_IDENTITY_ANY 0 /* wildcard in policy keys */
#define WEIR_IDENTITY_HOST 1
#define WEIR_IDENTITY_WORLD 2 /* any address the ipcache does not know */

/* ---- ipcache: LPM trie, IP prefix -> identity -------------------------------------------- */

#define WEIR_FAMILY_IPV4 4
#define WEIR_FAMILY_IPV6 6

/* Bits of the key before the address, counted in prefixlen: family and padding. */
#define WEIR_IPCACHE_PREFIX_BITS 32

struct weir_ipcache_key {
	__u32 prefixlen; /* WEIR_IPCACHE_PREFIX_BITS + address prefix length */
	__u8 family;     /* WEIR_FAMILY_IPV4 or WEIR_FAMILY_IPV6 */
	__u8 pad[3];
	__u8 addr[16];   /* network byte order; IPv4 in the first 4 bytes */
};

struct weir_ipcache_value {
	__u32 identity;
	__u32 flags; /* reserved */
};

/* ---- endpoints: host-side interface index -> endpoint ------------------------------------ */

/* No policy selects the endpoint in a direction: it is not isolated there (Kubernetes). */
#define WEIR_EP_INGRESS_ISOLATED (1 << 0)
#define WEIR_EP_EGRESS_ISOLATED (1 << 1)
/* Verdicts are computed and reported but drops are not enforced (audit mode). */
#define WEIR_EP_AUDIT (1 << 2)

struct weir_endpoint {
	__u32 endpoint_id; /* key of the endpoint's policy map in weir_policy */
	__u32 identity;    /* the endpoint's own security identity */
	__u32 flags;       /* WEIR_EP_* */
	__u32 pad;
};

/* ---- policy: per endpoint, {remote identity, port, protocol, direction} -> entry ----------- */

#define WEIR_DIR_INGRESS 1 /* towards the endpoint */
#define WEIR_DIR_EGRESS 2  /* leaving the endpoint */

#define WEIR_PORT_ANY 0
#define WEIR_PROTO_ANY 0

/* Default size of each endpoint's policy map; the loader may set another. */
#define WEIR_POLICY_ENTRIES_DEFAULT 16384
#define WEIR_MAX_ENDPOINTS 1024

struct weir_policy_key {
	__u32 identity;  /* remote identity, WEIR_IDENTITY_ANY for any */
	__u16 dport;     /* destination port, host byte order; WEIR_PORT_ANY for any */
	__u8 protocol;   /* IANA number; WEIR_PROTO_ANY for any */
	__u8 direction;  /* WEIR_DIR_* */
};

#define WEIR_POLICY_DENY (1 << 0)

struct weir_policy_entry {
	__u32 cookie; /* set by the control plane: names the policy rule in flow events */
	__u8 flags;   /* WEIR_POLICY_DENY */
	__u8 pad[3];
};

/* ---- conntrack: LRU hash of connections --------------------------------------------------- */

/*
 * A connection is tracked per endpoint and per enforcement direction, so that a packet between
 * two local pods is judged by the sender's egress policy and by the receiver's ingress policy,
 * each with its own entry.
 */
struct weir_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;      /* network byte order */
	__u16 dport;      /* network byte order */
	__u8 protocol;
	__u8 family;
	__u8 direction;   /* the direction the connection was opened in, WEIR_DIR_* */
	__u8 pad;
	__u32 endpoint_id;
};

#define WEIR_CT_CLOSING (1 << 0) /* FIN or RST seen; close event sent */

struct weir_ct_entry {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u32 cookie;       /* policy entry that allowed the connection */
	__u32 remote_identity;
	__u8 match_type;
	__u8 flags;         /* WEIR_CT_* */
	__u8 pad[6];
};

/* ---- verdicts, drop reasons, match types (numbers shared with schemas/ flow.proto) ---------- */

#define WEIR_VERDICT_FORWARDED 1
#define WEIR_VERDICT_DROPPED 2
#define WEIR_VERDICT_AUDIT 4

#define WEIR_DROP_NONE 0
#define WEIR_DROP_POLICY_DENIED 133 /* no allow entry, endpoint isolated */
#define WEIR_DROP_INVALID_PACKET 134
#define WEIR_DROP_UNSUPPORTED_L3 139
#define WEIR_DROP_UNSUPPORTED_L4 140
#define WEIR_DROP_CT_INSERT_FAILED 155
#define WEIR_DROP_NO_ENDPOINT 160 /* interface not known as an endpoint: fail closed */
#define WEIR_DROP_POLICY_DENY 181   /* explicit deny entry */

#define WEIR_MATCH_NONE 0
#define WEIR_MATCH_L3_L4 1        /* identity and port */
#define WEIR_MATCH_L3_ONLY 2      /* identity, any port */
#define WEIR_MATCH_L4_ONLY 3      /* port, any identity */
#define WEIR_MATCH_ALL 4          /* any identity, any port */
#define WEIR_MATCH_NOT_ISOLATED 5 /* no policy selects the endpoint in this direction */

/* ---- counters: per-CPU, per {verdict, drop reason, direction} ------------------------------ */

struct weir_metrics_key {
	__u8 verdict;
	__u8 drop_reason;
	__u8 direction;
	__u8 pad;
};

struct weir_metrics_value {
	__u64 packets;
	__u64 bytes;
};

/* Slots of the per-CPU array weir_health: what the datapath could not do. */
#define WEIR_HEALTH_EVENTS_LOST 0   /* ring buffer full when emitting */
#define WEIR_HEALTH_CT_INSERT_FAILED 1
#define WEIR_HEALTH_SLOTS 4

/* ---- events: ring buffer records, versioned --------------------------------------------------- */

#define WEIR_EVENT_VERSION 1

#define WEIR_EVENT_NEW_CONNECTION 1
#define WEIR_EVENT_DROP 2
#define WEIR_EVENT_CONNECTION_CLOSE 3
#define WEIR_EVENT_DNS 4

#define WEIR_TRACE_FROM_ENDPOINT 1
#define WEIR_TRACE_TO_ENDPOINT 2

/* DNS payload bytes carried by a WEIR_EVENT_DNS record, at most. */
#define WEIR_DNS_PAYLOAD_MAX 512

/* TCP flags as in the header's 13th byte. */
#define WEIR_TCP_FIN 0x01
#define WEIR_TCP_SYN 0x02
#define WEIR_TCP_RST 0x04
#define WEIR_TCP_PSH 0x08
#define WEIR_TCP_ACK 0x10
#define WEIR_TCP_URG 0x20
#define WEIR_TCP_ECE 0x40
#define WEIR_TCP_CWR 0x80

/* Every record starts with this header; a reader rejects versions it does not know. */
struct weir_event_header {
	__u8 version; /* WEIR_EVENT_VERSION */
	__u8 type;    /* WEIR_EVENT_* */
	__u16 length; /* bytes of the whole record, payload included */
	__u32 cpu;
};

struct weir_flow_event {
	struct weir_event_header header;
	__u64 timestamp_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 ifindex;
	__u32 endpoint_id;
	__u32 src_identity;
	__u32 dst_identity;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* host byte order; ICMP: type in sport, code in dport */
	__u16 dport;
	__u8 family;
	__u8 protocol;
	__u8 verdict;
	__u8 drop_reason;
	__u8 direction;   /* WEIR_DIR_* of the enforcement point */
	__u8 match_type;
	__u8 tcp_flags;
	__u8 is_reply;
	__u8 trace_point; /* WEIR_TRACE_* */
	__u8 pad[3];
	__u32 policy_cookie;
	__u32 packet_length;
	__u16 payload_length; /* bytes of payload[] that follow (DNS events) */
	__u16 payload_offset; /* offset of the captured payload in the packet */
	__u32 pad2;
	/* DNS events: payload_length bytes of the L4 payload follow, at sizeof(struct weir_flow_event). */
};

#endif /* WEIR_MAPS_H */
