// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Weir's datapath: tc clsact programs on the host side of each pod's veth.
 *
 *   weir_from_endpoint  tc ingress of the host-side veth: packets the pod sends (its egress policy)
 *   weir_to_endpoint    tc egress of the host-side veth: packets for the pod (its ingress policy)
 *
 * Both share one path: parse, identify the endpoint by interface and the peer by the ipcache,
 * pass packets of tracked connections, decide a connection's first packet by policy, count
 * everything, and emit events for new connections, drops, closes and DNS.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "weir_maps.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/conntrack.h"
#include "lib/policy.h"
#include "lib/events.h"

#define DNS_PORT 53

static __always_inline __u32 weir_identity_of(const __u8 *addr, __u8 family)
{
	struct weir_ipcache_key key = {
		.prefixlen = WEIR_IPCACHE_PREFIX_BITS + (family == WEIR_FAMILY_IPV4 ? 32 : 128),
		.family = family,
	};
	__builtin_memcpy(key.addr, addr, 16);
	struct weir_ipcache_value *value = bpf_map_lookup_elem(&weir_ipcache, &key);
	return value ? value->identity : WEIR_IDENTITY_WORLD;
}

static __always_inline int weir_is_dns(const struct weir_packet *pkt)
{
	return (pkt->protocol == IPPROTO_UDP || pkt->protocol == IPPROTO_TCP) && !pkt->is_fragment &&
	       (pkt->sport == bpf_htons(DNS_PORT) || pkt->dport == bpf_htons(DNS_PORT));
}

/*
 * ICMPv6 link control: multicast listener discovery (130-132, 143, hop limit 1) and neighbour
 * discovery (133-137, hop limit 255), between link-local or unspecified sources and link-local
 * or link-scope multicast destinations. IPv6 does not work without them and they never leave the
 * link, so no policy applies, as in Kubernetes' CNI plugins; anything else of these types (a
 * routable destination, another hop limit) is ordinary ICMPv6, checked and judged.
 */
static __always_inline int weir_is_icmpv6_link_control(const struct weir_packet *pkt)
{
	if (pkt->protocol != WEIR_IPPROTO_ICMPV6 || pkt->family != WEIR_FAMILY_IPV6)
		return 0;
	__u8 t = pkt->icmp_type;
	int mld = (t >= 130 && t <= 132) || t == 143;
	int nd = t >= 133 && t <= 137;
	if (!(mld && pkt->hop_limit == 1) && !(nd && pkt->hop_limit == 255))
		return 0;
	const __u8 *d = pkt->daddr;
	int to_link = (d[0] == 0xfe && (d[1] & 0xc0) == 0x80) || (d[0] == 0xff && (d[1] & 0x0f) == 0x02);
	const __u64 *src = (const __u64 *)pkt->saddr;
	const __u8 *sb = pkt->saddr;
	int from_link = (src[0] == 0 && src[1] == 0) || (sb[0] == 0xfe && (sb[1] & 0xc0) == 0x80);
	return to_link && from_link;
}

static __always_inline int weir_drop(struct __sk_buff *skb, struct weir_event_context *ctx,
				     const struct weir_packet *pkt, __u8 reason, int audit)
{
	ctx->type = WEIR_EVENT_DROP;
	ctx->verdict = audit ? WEIR_VERDICT_AUDIT : WEIR_VERDICT_DROPPED;
	ctx->drop_reason = reason;
	weir_count(ctx->verdict, reason, ctx->direction, skb->len);
	weir_emit(ctx, pkt);
	return audit ? TC_ACT_OK : TC_ACT_SHOT;
}

static __always_inline int weir_forward(struct __sk_buff *skb, __u8 direction)
{
	weir_count(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, direction, skb->len);
	return TC_ACT_OK;
}

/* A packet leaving a pod must come from one of the pod's own addresses. */
static __always_inline int weir_source_is_own(const struct weir_endpoint *ep, const struct weir_packet *pkt)
{
	if (pkt->family == WEIR_FAMILY_IPV4)
		return (ep->flags & WEIR_EP_HAS_IPV4) && *(const __u32 *)pkt->saddr == *(const __u32 *)ep->ipv4;
	const __u64 *a = (const __u64 *)pkt->saddr;
	const __u64 *b = (const __u64 *)ep->ipv6;
	return (ep->flags & WEIR_EP_HAS_IPV6) && a[0] == b[0] && a[1] == b[1];
}

static __always_inline int weir_is_resolver(const __u8 *addr, __u8 family)
{
	struct weir_addr_key key = { .family = family };
	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&weir_resolvers, &key) != NULL;
}

/* Ports a connection's policy is judged on: none for ICMP and the like. */
static __always_inline __u16 weir_policy_port(__u8 protocol, __u16 dport_net)
{
	if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == WEIR_IPPROTO_SCTP)
		return bpf_ntohs(dport_net);
	return 0;
}

/*
 * The verdict for a connection opened in direction towards port dport_net of the peer remote
 * (whose address is peer). An endpoint the control plane has not told yet is closed: only DNS
 * to a resolver leaves it.
 */
static __always_inline void weir_judge(const struct weir_endpoint *ep, __u8 direction, __u32 remote,
				       const __u8 *peer, __u8 family, __u8 protocol, __u16 dport_net,
				       struct weir_verdict *out)
{
	__u16 dport = weir_policy_port(protocol, dport_net);
	if (ep->flags & WEIR_EP_AWAITING_POLICY) {
		int dns = direction == WEIR_DIR_EGRESS && (protocol == IPPROTO_UDP || protocol == IPPROTO_TCP) &&
			  dport == DNS_PORT && weir_is_resolver(peer, family);
		out->verdict = dns ? WEIR_VERDICT_FORWARDED : WEIR_VERDICT_DROPPED;
		out->drop_reason = dns ? WEIR_DROP_NONE : WEIR_DROP_AWAITING_POLICY;
		out->match_type = WEIR_MATCH_NONE;
		out->cookie = 0;
		return;
	}
	__u8 isolated = direction == WEIR_DIR_INGRESS ? (ep->flags & WEIR_EP_INGRESS_ISOLATED) != 0
						       : (ep->flags & WEIR_EP_EGRESS_ISOLATED) != 0;
	weir_policy_decide(ep->endpoint_id, isolated, remote, dport, protocol, direction, out);
}

/*
 * An ICMP error about a packet of a tracked connection (PMTU's "fragmentation needed", "packet
 * too big", unreachable, time exceeded) belongs to that connection. The quoted packet went the
 * other way, so its addresses and ports are swapped to look it up as this packet's own.
 */
static __always_inline int weir_same_addr(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a;
	const __u64 *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int weir_icmp_related(void *ct, const struct weir_packet *pkt, const struct weir_endpoint *ep,
					     __u8 direction, __u64 now)
{
	if (!pkt->quote_ok)
		return 0;
	/*
	 * The quote must be the pod's own: leaving the pod, an error about a packet it received, sent
	 * back to that packet's sender; entering it, an error about a packet it sent (from any router).
	 * Otherwise a pod could wrap anything in a made-up quote of a tracked connection.
	 */
	if (direction == WEIR_DIR_EGRESS
		    ? !weir_same_addr(pkt->inner_daddr, pkt->saddr) || !weir_same_addr(pkt->inner_saddr, pkt->daddr)
		    : !weir_same_addr(pkt->inner_saddr, pkt->daddr))
		return 0;
	struct weir_ct_key key;
	struct weir_ct_entry *entry;
	int state = weir_ct_lookup(ct, &key, pkt->inner_daddr, pkt->inner_saddr, pkt->inner_dport, pkt->inner_sport,
				   pkt->inner_protocol, pkt->family, ep->endpoint_id, direction, now, &entry);
	/* A connection not judged under the revision in force yet is no connection to relate to. */
	return state != WEIR_CT_NEW && entry && entry->policy_revision == ep->policy_revision;
}

static __always_inline __u32 weir_ipcache_generation_now(void)
{
	__u32 zero = 0;
	__u32 *generation = bpf_map_lookup_elem(&weir_ipcache_generation, &zero);
	return generation ? *generation : 0;
}

static __always_inline void weir_set_identities(struct weir_event_context *ctx, const struct weir_endpoint *ep,
						__u8 direction, __u32 remote)
{
	ctx->src_identity = direction == WEIR_DIR_INGRESS ? remote : ep->identity;
	ctx->dst_identity = direction == WEIR_DIR_INGRESS ? ep->identity : remote;
}

static __always_inline int weir_handle(struct __sk_buff *skb, __u8 direction, __u8 trace_point)
{
	struct weir_packet pkt = {};
	struct weir_event_context ctx = {
		.direction = direction,
		.trace_point = trace_point,
		.ifindex = skb->ifindex,
	};
	__u32 ifindex = skb->ifindex;
	struct weir_endpoint *ep = bpf_map_lookup_elem(&weir_endpoints, &ifindex);
	int parsed = weir_parse(skb, &pkt);

	if (parsed == WEIR_PARSE_PASS_L2)
		return weir_forward(skb, direction);
	if (!ep)
		return weir_drop(skb, &ctx, &pkt, WEIR_DROP_NO_ENDPOINT, 0);

	int audit = (ep->flags & WEIR_EP_AUDIT) != 0;
	ctx.endpoint_id = ep->endpoint_id;
	if (parsed < 0)
		return weir_drop(skb, &ctx, &pkt, (__u8)(-parsed), 0);

	const __u8 *peer_addr = direction == WEIR_DIR_INGRESS ? pkt.saddr : pkt.daddr;
	__u32 remote;

	if (weir_is_icmpv6_link_control(&pkt))
		return weir_forward(skb, direction);
	/* Never audited: a forged source would be judged as the pod it claims to be. */
	if (direction == WEIR_DIR_EGRESS && !weir_source_is_own(ep, &pkt)) {
		weir_set_identities(&ctx, ep, direction, weir_identity_of(peer_addr, pkt.family));
		return weir_drop(skb, &ctx, &pkt, WEIR_DROP_INVALID_SOURCE_IP, 0);
	}

	__u32 endpoint_id = ep->endpoint_id;
	void *ct = bpf_map_lookup_elem(&weir_ct, &endpoint_id);
	if (!ct) {
		weir_set_identities(&ctx, ep, direction, weir_identity_of(peer_addr, pkt.family));
		return weir_drop(skb, &ctx, &pkt, WEIR_DROP_NO_ENDPOINT, 0);
	}

	struct weir_frag_key frag = {};
	if (pkt.is_fragment || pkt.is_first_fragment) {
		frag.id = pkt.frag_id;
		frag.family = pkt.family;
		frag.protocol = pkt.protocol;
		__builtin_memcpy(frag.saddr, pkt.saddr, 16);
		__builtin_memcpy(frag.daddr, pkt.daddr, 16);
	}
	if (pkt.is_fragment) {
		/* A later fragment is judged as its datagram's first fragment was. */
		struct weir_frag_ports *ports = bpf_map_lookup_elem(&weir_fragments, &frag);
		if (!ports) {
			weir_set_identities(&ctx, ep, direction, weir_identity_of(peer_addr, pkt.family));
			return weir_drop(skb, &ctx, &pkt, WEIR_DROP_FRAG_NOT_FOUND, 0);
		}
		pkt.sport = ports->sport;
		pkt.dport = ports->dport;
	}

	__u64 now = bpf_ktime_get_ns();
	__u32 generation = weir_ipcache_generation_now();
	struct weir_verdict verdict = {};

	if (pkt.icmp_error) {
		remote = weir_identity_of(peer_addr, pkt.family);
		weir_set_identities(&ctx, ep, direction, remote);
		if (weir_icmp_related(ct, &pkt, ep, direction, now)) {
			weir_health_inc(WEIR_HEALTH_ICMP_RELATED);
			return weir_forward(skb, direction);
		}
		/* About nothing tracked: judged as ICMP on its own, and never tracked. */
		weir_judge(ep, direction, remote, peer_addr, pkt.family, pkt.protocol, 0, &verdict);
		ctx.match_type = verdict.match_type;
		ctx.cookie = verdict.cookie;
		if (verdict.verdict == WEIR_VERDICT_DROPPED)
			return weir_drop(skb, &ctx, &pkt, verdict.drop_reason, audit);
		return weir_forward(skb, direction);
	}

	struct weir_ct_key ct_key;
	struct weir_ct_entry *entry;
	int state = weir_ct_lookup(ct, &ct_key, pkt.saddr, pkt.daddr, pkt.sport, pkt.dport, pkt.protocol, pkt.family,
				   endpoint_id, direction, now, &entry);

	if (state != WEIR_CT_NEW && entry) {
		/* The peer's identity as tracked, unless the ipcache changed since. */
		remote = entry->ipcache_generation == generation ? entry->remote_identity
								 : weir_identity_of(peer_addr, pkt.family);
		weir_set_identities(&ctx, ep, direction, remote);
		if (entry->policy_revision != ep->policy_revision || entry->remote_identity != remote) {
			/*
			 * What admitted the connection changed (a policy revision, the peer's identity):
			 * judge it again as it was opened, and end it when it is no longer allowed.
			 */
			weir_health_inc(WEIR_HEALTH_CT_REJUDGED);
			const __u8 *peer = ct_key.direction == WEIR_DIR_INGRESS ? ct_key.saddr : ct_key.daddr;
			weir_judge(ep, ct_key.direction, remote, peer, ct_key.family, ct_key.protocol, ct_key.dport,
				   &verdict);
			if (verdict.verdict == WEIR_VERDICT_DROPPED && !audit) {
				bpf_map_delete_elem(ct, &ct_key);
				weir_health_inc(WEIR_HEALTH_CT_REVOKED);
				ctx.match_type = verdict.match_type;
				ctx.cookie = verdict.cookie;
				ctx.is_reply = state == WEIR_CT_REPLY;
				return weir_drop(skb, &ctx, &pkt, verdict.drop_reason, 0);
			}
			entry->policy_revision = ep->policy_revision;
			entry->remote_identity = remote;
			entry->cookie = verdict.cookie;
			entry->match_type = verdict.match_type;
		}
		if (entry->ipcache_generation != generation)
			entry->ipcache_generation = generation;
		weir_ct_touch(entry, state, pkt.tcp_flags, pkt.protocol, now, skb->len);
		ctx.is_reply = state == WEIR_CT_REPLY;
		ctx.verdict = WEIR_VERDICT_FORWARDED;
		ctx.match_type = entry->match_type;
		ctx.cookie = entry->cookie;
		if ((pkt.tcp_flags & (WEIR_TCP_FIN | WEIR_TCP_RST)) && !(entry->flags & WEIR_CT_CLOSE_SENT)) {
			entry->flags |= WEIR_CT_CLOSE_SENT;
			ctx.type = WEIR_EVENT_CONNECTION_CLOSE;
			weir_emit(&ctx, &pkt);
		}
		if (pkt.is_first_fragment) {
			struct weir_frag_ports ports = { .sport = pkt.sport, .dport = pkt.dport };
			bpf_map_update_elem(&weir_fragments, &frag, &ports, BPF_ANY);
		}
		if (weir_is_dns(&pkt) && skb->len > pkt.payload_offset) {
			ctx.type = WEIR_EVENT_DNS;
			weir_emit_dns(skb, &ctx, &pkt);
		}
		return weir_forward(skb, direction);
	}

	/* A connection's first packet: the policy decides. */
	remote = weir_identity_of(peer_addr, pkt.family);
	weir_set_identities(&ctx, ep, direction, remote);
	weir_judge(ep, direction, remote, peer_addr, pkt.family, pkt.protocol, pkt.dport, &verdict);
	ctx.match_type = verdict.match_type;
	ctx.cookie = verdict.cookie;
	if (verdict.verdict == WEIR_VERDICT_DROPPED) {
		int result = weir_drop(skb, &ctx, &pkt, verdict.drop_reason, audit);
		if (!audit)
			return result;
	}

	/*
	 * Only a SYN opens a TCP connection, and of ICMP only an echo request: a stray ACK, FIN or
	 * RST, an echo reply or another ICMP message that policy allows passes but is not tracked,
	 * so a forged one cannot open a way back in for its "replies".
	 */
	int opens;
	if (pkt.protocol == IPPROTO_TCP)
		opens = (pkt.tcp_flags & (WEIR_TCP_SYN | WEIR_TCP_ACK | WEIR_TCP_RST | WEIR_TCP_FIN)) == WEIR_TCP_SYN;
	else if (pkt.protocol == IPPROTO_ICMP)
		opens = pkt.icmp_type == ICMP_ECHO_REQUEST;
	else if (pkt.protocol == WEIR_IPPROTO_ICMPV6)
		opens = pkt.icmp_type == ICMPV6_ECHO_REQUEST;
	else
		opens = 1;
	if (opens) {
		struct weir_ct_entry created = {
			.created_ns = now,
			.last_seen_ns = now,
			.packets = 1,
			.bytes = skb->len,
			.cookie = verdict.cookie,
			.remote_identity = remote,
			.policy_revision = ep->policy_revision,
			.ipcache_generation = generation,
			.match_type = verdict.match_type,
		};
		if (bpf_map_update_elem(ct, &ct_key, &created, BPF_NOEXIST) < 0 && !bpf_map_lookup_elem(ct, &ct_key)) {
			/* Tracking is what lets the replies back in: without it, fail closed and say so. */
			weir_health_inc(WEIR_HEALTH_CT_INSERT_FAILED);
			return weir_drop(skb, &ctx, &pkt, WEIR_DROP_CT_INSERT_FAILED, 0);
		}
		if (pkt.is_first_fragment) {
			struct weir_frag_ports ports = { .sport = pkt.sport, .dport = pkt.dport };
			bpf_map_update_elem(&weir_fragments, &frag, &ports, BPF_ANY);
		}
	}

	ctx.type = WEIR_EVENT_NEW_CONNECTION;
	ctx.verdict = verdict.verdict == WEIR_VERDICT_DROPPED ? WEIR_VERDICT_AUDIT : WEIR_VERDICT_FORWARDED;
	ctx.drop_reason = WEIR_DROP_NONE;
	if (verdict.verdict != WEIR_VERDICT_DROPPED) {
		if (opens)
			weir_emit(&ctx, &pkt);
		weir_count(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, direction, skb->len);
	}
	if (weir_is_dns(&pkt) && skb->len > pkt.payload_offset) {
		ctx.type = WEIR_EVENT_DNS;
		weir_emit_dns(skb, &ctx, &pkt);
	}
	return TC_ACT_OK;
}

SEC("tc")
int weir_from_endpoint(struct __sk_buff *skb)
{
	return weir_handle(skb, WEIR_DIR_EGRESS, WEIR_TRACE_FROM_ENDPOINT);
}

SEC("tc")
int weir_to_endpoint(struct __sk_buff *skb)
{
	return weir_handle(skb, WEIR_DIR_INGRESS, WEIR_TRACE_TO_ENDPOINT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
