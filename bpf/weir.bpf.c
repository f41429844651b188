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

/* ICMPv6 link control: multicast listener discovery (130-132, 143) and neighbour discovery
 * (133-137). IPv6 does not work without them and they never leave the link, so no policy
 * applies, as in Kubernetes' CNI plugins. */
static __always_inline int weir_is_icmpv6_link_control(const struct weir_packet *pkt)
{
	__u8 t = pkt->icmp_type;
	return pkt->protocol == WEIR_IPPROTO_ICMPV6 && ((t >= 130 && t <= 137) || t == 143);
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

	if (parsed == WEIR_PARSE_PASS_L2) {
		weir_count(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, direction, skb->len);
		return TC_ACT_OK;
	}
	if (!ep)
		return weir_drop(skb, &ctx, &pkt, WEIR_DROP_NO_ENDPOINT, 0);

	int audit = (ep->flags & WEIR_EP_AUDIT) != 0;
	ctx.endpoint_id = ep->endpoint_id;
	if (parsed < 0)
		return weir_drop(skb, &ctx, &pkt, (__u8)(-parsed), 0);

	__u32 remote = weir_identity_of(direction == WEIR_DIR_INGRESS ? pkt.saddr : pkt.daddr, pkt.family);
	ctx.src_identity = direction == WEIR_DIR_INGRESS ? remote : ep->identity;
	ctx.dst_identity = direction == WEIR_DIR_INGRESS ? ep->identity : remote;

	if (weir_is_icmpv6_link_control(&pkt)) {
		weir_count(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, direction, skb->len);
		return TC_ACT_OK;
	}

	struct weir_ct_key ct_key;
	struct weir_ct_entry *ct;
	__u64 now = bpf_ktime_get_ns();
	int state = weir_ct_lookup(&ct_key, &pkt, ep->endpoint_id, direction, &ct);

	if (state != WEIR_CT_NEW && ct) {
		weir_ct_touch(ct, now, skb->len);
		ctx.is_reply = state == WEIR_CT_REPLY;
		ctx.verdict = WEIR_VERDICT_FORWARDED;
		ctx.match_type = ct->match_type;
		ctx.cookie = ct->cookie;
		if (pkt.tcp_flags & (WEIR_TCP_FIN | WEIR_TCP_RST)) {
			if (!(ct->flags & WEIR_CT_CLOSING)) {
				ct->flags |= WEIR_CT_CLOSING;
				ctx.type = WEIR_EVENT_CONNECTION_CLOSE;
				weir_emit(&ctx, &pkt);
			}
			/* After a reset nothing more belongs to the connection. */
			if (pkt.tcp_flags & WEIR_TCP_RST)
				bpf_map_delete_elem(&weir_ct, &ct_key);
		}
		if (weir_is_dns(&pkt) && skb->len > pkt.payload_offset) {
			ctx.type = WEIR_EVENT_DNS;
			weir_emit_dns(skb, &ctx, &pkt);
		}
		weir_count(WEIR_VERDICT_FORWARDED, WEIR_DROP_NONE, direction, skb->len);
		return TC_ACT_OK;
	}

	/* A connection's first packet: the policy decides. ICMP and fragments have no port. */
	__u16 dport = 0;
	if ((pkt.protocol == IPPROTO_TCP || pkt.protocol == IPPROTO_UDP || pkt.protocol == WEIR_IPPROTO_SCTP) &&
	    !pkt.is_fragment)
		dport = bpf_ntohs(pkt.dport);
	__u8 isolated = direction == WEIR_DIR_INGRESS ? (ep->flags & WEIR_EP_INGRESS_ISOLATED) != 0
						       : (ep->flags & WEIR_EP_EGRESS_ISOLATED) != 0;
	struct weir_verdict verdict = {};
	weir_policy_decide(ep->endpoint_id, isolated, remote, dport, pkt.protocol, direction, &verdict);
	ctx.match_type = verdict.match_type;
	ctx.cookie = verdict.cookie;
	if (verdict.verdict == WEIR_VERDICT_DROPPED) {
		int result = weir_drop(skb, &ctx, &pkt, verdict.drop_reason, audit);
		if (!audit)
			return result;
	}

	struct weir_ct_entry entry = {
		.created_ns = now,
		.last_seen_ns = now,
		.packets = 1,
		.bytes = skb->len,
		.cookie = verdict.cookie,
		.remote_identity = remote,
		.match_type = verdict.match_type,
	};
	if (bpf_map_update_elem(&weir_ct, &ct_key, &entry, BPF_NOEXIST) < 0 &&
	    !bpf_map_lookup_elem(&weir_ct, &ct_key)) {
		/* Tracking is what lets the replies back in: without it, fail closed and say so. */
		weir_health_inc(WEIR_HEALTH_CT_INSERT_FAILED);
		return weir_drop(skb, &ctx, &pkt, WEIR_DROP_CT_INSERT_FAILED, 0);
	}

	ctx.type = WEIR_EVENT_NEW_CONNECTION;
	ctx.verdict = verdict.verdict == WEIR_VERDICT_DROPPED ? WEIR_VERDICT_AUDIT : WEIR_VERDICT_FORWARDED;
	ctx.drop_reason = WEIR_DROP_NONE;
	if (verdict.verdict != WEIR_VERDICT_DROPPED) {
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
