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

/* ---- resolvers: the cluster DNS servers' addresses -------------------------------------- */

/*
 * An endpoint the control plane has not told yet may reach only these, on port 53; DNS answers
 * count for toFQDNs only when they come from one of them. Set by the agent (kubelet's clusterDNS).
 */
#define WEIR_MAX_RESOLVERS 16

struct weir_addr_key {
	__u8 family; /* WEIR_FAMILY_* */
	__u8 pad[3];
	__u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/* ---- endpoints: host-side interface index -> endpoint ------------------------------------ */

enum weir_endpoint_flag {
	/* Isolated in a direction: only what policy allows passes (Kubernetes' isolation). */
	WEIR_EP_INGRESS_ISOLATED = 1 << 0,
	WEIR_EP_EGRESS_ISOLATED = 1 << 1,
	/* Verdicts are computed and reported but drops are not enforced (audit mode). */
	WEIR_EP_AUDIT = 1 << 2,
	/*
	 * Closed until told: the control plane has not said yet what applies to the endpoint (not
	 * even "no policy selects you"). Nothing enters; only DNS to a resolver leaves.
	 */
	WEIR_EP_AWAITING_POLICY = 1 << 3,
	/* Which of the addresses below are the endpoint's: a packet it sends from any other is dropped. */
	WEIR_EP_HAS_IPV4 = 1 << 4,
	WEIR_EP_HAS_IPV6 = 1 << 5,
};

struct weir_endpoint {
	__u32 endpoint_id;     /* key of the endpoint's policy and conntrack maps */
	__u32 identity;        /* the endpoint's own security identity */
	__u32 flags;           /* enum weir_endpoint_flag */
	/*
	 * Changes whenever what the endpoint may do changes (a policy revision applied, a new
	 * identity): a tracked connection admitted under another revision is judged again.
	 */
	__u32 policy_revision;
	__u8 ipv4[4];          /* the endpoint's own addresses, network byte order */
	__u8 ipv6[16];
	/*
	 * The control plane's revision of the policy state in force (the datapath ignores it): kept
	 * with the maps, so a restarted agent never applies an older record it replays.
	 */
	__u32 state_revision;
};

/* ---- policy: per endpoint, an LPM trie over {identity, direction, protocol, port} ---------- */

enum weir_direction {
	WEIR_DIR_INGRESS = 1, /* towards the endpoint */
	WEIR_DIR_EGRESS = 2,  /* leaving the endpoint */
};

#define WEIR_PORT_ANY 0
#define WEIR_PROTO_ANY 0

/* Default size of each endpoint's policy map; the loader may set another. */
#define WEIR_POLICY_ENTRIES_DEFAULT 16384
#define WEIR_MAX_ENDPOINTS 1024

/*
 * Bits of the key after prefixlen: identity and direction always match whole (40 bits); then the
 * protocol (8) and the destination port (16), which a key may leave out from the right. A key of
 * prefixlen 40 matches any protocol and port, 48 any port of one protocol, 64 one port; a port
 * range is a handful of keys between 48 and 64, so 1-65535 costs 16 entries, not 65,535.
 */
#define WEIR_POLICY_STATIC_BITS 40
#define WEIR_POLICY_PROTO_BITS 48
#define WEIR_POLICY_FULL_BITS 64

struct weir_policy_key {
	__u32 prefixlen;  /* WEIR_POLICY_STATIC_BITS .. WEIR_POLICY_FULL_BITS */
	__u32 identity;   /* remote identity, WEIR_IDENTITY_ANY for any; network byte order, so that the
			   * trie branches on the high bits first and a miss leaves it near the root */
	__u8 direction;   /* enum weir_direction */
	__u8 protocol;    /* IANA number; 0 beyond the prefix */
	__u16 dport;      /* network byte order, so that a range is a prefix; 0 beyond the prefix */
};

enum weir_policy_flag {
	WEIR_POLICY_DENY = 1 << 0,
};

struct weir_policy_entry {
	__u32 cookie;    /* set by the control plane: names the policy rule in flow events */
	__u8 flags;      /* enum weir_policy_flag */
	__u8 prefixlen;  /* the key's: tells a lookup how specific its match was */
	__u8 pad[2];
};

/* ---- conntrack: per endpoint, a hash of connections with lifetimes ------------------------- */

/*
 * Each endpoint has a conntrack map of its own (a map of maps keyed by endpoint id), so one busy
 * endpoint cannot take another's room, and its entries go with it. A connection is tracked per
 * enforcement direction, so that a packet between two local pods is judged by the sender's
 * egress policy and by the receiver's ingress policy, each with its own entry.
 */
#define WEIR_CT_ENTRIES_DEFAULT 65536

struct weir_ct_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;      /* network byte order */
	__u16 dport;      /* network byte order */
	__u8 protocol;
	__u8 family;
	__u8 direction;   /* the direction the connection was opened in, enum weir_direction */
	__u8 pad;
	__u32 endpoint_id;
};

enum weir_ct_flag {
	WEIR_CT_CLOSE_SENT = 1 << 0, /* the close event was emitted */
	WEIR_CT_SEEN_REPLY = 1 << 1, /* the peer answered: established */
	WEIR_CT_FIN_FORWARD = 1 << 2, /* FIN from the side that opened it */
	WEIR_CT_FIN_REPLY = 1 << 3,   /* FIN from the other side */
	WEIR_CT_RST = 1 << 4,         /* RST as the last word; cleared by any later packet */
};

struct weir_ct_entry {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u32 cookie;          /* policy entry that allowed the connection */
	__u32 remote_identity; /* the peer's identity when it was judged */
	__u32 policy_revision; /* the endpoint's policy_revision when it was judged */
	/*
	 * The ipcache's generation when remote_identity was looked up: while it stands, a tracked
	 * connection's packets skip the ipcache lookup; when the ipcache changes, the peer's identity
	 * is looked up again (and a new one judged again).
	 */
	__u32 ipcache_generation;
	__u8 match_type;
	__u8 flags;            /* enum weir_ct_flag */
	__u8 pad[6];
};

/*
 * How long an entry lives after its last packet (as Cilium's defaults): a TCP connection that
 * was answered lives long, one never answered or closing briefly, everything else a minute.
 * The datapath checks it at lookup and the agent's garbage collection with the same function.
 */
#define WEIR_NSEC_PER_SEC 1000000000ULL
#define WEIR_CT_LIFETIME_TCP (21600 * WEIR_NSEC_PER_SEC)
#define WEIR_CT_LIFETIME_SYN (60 * WEIR_NSEC_PER_SEC)
#define WEIR_CT_LIFETIME_CLOSING (10 * WEIR_NSEC_PER_SEC)
#define WEIR_CT_LIFETIME_NONTCP (60 * WEIR_NSEC_PER_SEC)

static inline __u64 weir_ct_lifetime_ns(__u8 protocol, __u8 flags)
{
	if (protocol != 6 /* TCP */)
		return WEIR_CT_LIFETIME_NONTCP;
	if ((flags & WEIR_CT_RST) || ((flags & WEIR_CT_FIN_FORWARD) && (flags & WEIR_CT_FIN_REPLY)))
		return WEIR_CT_LIFETIME_CLOSING;
	return (flags & WEIR_CT_SEEN_REPLY) ? WEIR_CT_LIFETIME_TCP : WEIR_CT_LIFETIME_SYN;
}

static inline int weir_ct_expired(const struct weir_ct_key *key, const struct weir_ct_entry *entry, __u64 now_ns)
{
	return now_ns > entry->last_seen_ns && now_ns - entry->last_seen_ns > weir_ct_lifetime_ns(key->protocol, entry->flags);
}

/* ---- fragments: the ports of a datagram's first fragment, for the ones that follow ---------- */

struct weir_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;        /* IPv4 identification or IPv6 fragment header identification */
	__u8 family;
	__u8 protocol;
	__u8 pad[2];
};

struct weir_frag_ports {
	__u16 sport; /* network byte order */
	__u16 dport;
};

/* ---- verdicts, drop reasons, match types (numbers shared with schemas/ flow.proto) ---------- */

enum weir_verdict_code {
	WEIR_VERDICT_FORWARDED = 1,
	WEIR_VERDICT_DROPPED = 2,
	WEIR_VERDICT_AUDIT = 4,
};

/* Numbered as Hubble's DropReason, so Hubble's names and descriptions apply. */
enum weir_drop_reason {
	WEIR_DROP_NONE = 0,
	WEIR_DROP_INVALID_SOURCE_IP = 132, /* a pod sent from an address that is not its own */
	WEIR_DROP_POLICY_DENIED = 133,     /* no allow entry, endpoint isolated */
	WEIR_DROP_INVALID_PACKET = 134,
	WEIR_DROP_UNSUPPORTED_L3 = 139,
	WEIR_DROP_UNSUPPORTED_L4 = 140,
	WEIR_DROP_CT_INSERT_FAILED = 155,
	WEIR_DROP_NO_ENDPOINT = 160,       /* interface not known as an endpoint: fail closed */
	WEIR_DROP_AWAITING_POLICY = 165,   /* closed until the control plane says what applies */
	WEIR_DROP_FRAG_NOT_FOUND = 175,    /* a later fragment whose first fragment was not seen */
	WEIR_DROP_POLICY_DENY = 181,       /* explicit deny entry */
};

enum weir_match_type {
	WEIR_MATCH_NONE = 0,
	WEIR_MATCH_L3_L4 = 1,        /* identity and port */
	WEIR_MATCH_L3_ONLY = 2,      /* identity, any port */
	WEIR_MATCH_L4_ONLY = 3,      /* port, any identity */
	WEIR_MATCH_ALL = 4,          /* any identity, any port */
	WEIR_MATCH_NOT_ISOLATED = 5, /* no policy selects the endpoint in this direction */
};

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
enum weir_health_slot {
	WEIR_HEALTH_EVENTS_LOST = 0, /* ring buffer full when emitting */
	WEIR_HEALTH_CT_INSERT_FAILED = 1,
	WEIR_HEALTH_CT_EXPIRED = 2,   /* entries found past their lifetime at lookup */
	WEIR_HEALTH_CT_REJUDGED = 3,  /* tracked connections judged again after a policy change */
	WEIR_HEALTH_CT_REVOKED = 4,   /* ... and no longer allowed: ended */
	WEIR_HEALTH_ICMP_RELATED = 5, /* ICMP errors passed for the connection they name */
	WEIR_HEALTH_SLOTS = 8,
};

/* ---- events: ring buffer records, versioned --------------------------------------------------- */

#define WEIR_EVENT_VERSION 1

enum weir_event_type {
	WEIR_EVENT_NEW_CONNECTION = 1,
	WEIR_EVENT_DROP = 2,
	WEIR_EVENT_CONNECTION_CLOSE = 3,
	WEIR_EVENT_DNS = 4,
};

enum weir_trace_point {
	WEIR_TRACE_FROM_ENDPOINT = 1,
	WEIR_TRACE_TO_ENDPOINT = 2,
};

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
	__u8 type;    /* enum weir_event_type */
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
	__u8 direction;   /* enum weir_direction of the enforcement point */
	__u8 match_type;
	__u8 tcp_flags;
	__u8 is_reply;
	__u8 trace_point; /* enum weir_trace_point */
	__u8 pad[3];
	__u32 policy_cookie;
	__u32 packet_length;
	__u16 payload_length; /* bytes of payload[] that follow (DNS events) */
	__u16 payload_offset; /* offset of the captured payload in the packet */
	__u32 pad2;
	/* DNS events: payload_length bytes of the L4 payload follow, at sizeof(struct weir_flow_event). */
};

#endif /* WEIR_MAPS_H */
