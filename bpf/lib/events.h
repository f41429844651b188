/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters and flow events. Counters are per CPU (no atomics on the hot path); an event that
 * does not fit in the ring buffer is counted as lost, never silently missing.
 */
#ifndef WEIR_LIB_EVENTS_H
#define WEIR_LIB_EVENTS_H

#include "maps.h"
#include "parse.h"

static __always_inline void weir_health_inc(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&weir_health, &slot);
	if (value)
		*value += 1;
}

static __always_inline void weir_count(__u8 verdict, __u8 drop_reason, __u8 direction, __u32 bytes)
{
	struct weir_metrics_key key = { .verdict = verdict, .drop_reason = drop_reason, .direction = direction };
	struct weir_metrics_value *value = bpf_map_lookup_elem(&weir_metrics, &key);
	if (value) {
		value->packets += 1;
		value->bytes += bytes;
		return;
	}
	struct weir_metrics_value first = { .packets = 1, .bytes = bytes };
	bpf_map_update_elem(&weir_metrics, &key, &first, BPF_NOEXIST);
	/* Lost to a concurrent first insert on this CPU's slot: impossible, the map is per CPU. */
}

struct weir_event_context {
	__u8 type;
	__u8 direction;
	__u8 trace_point;
	__u8 is_reply;
	__u8 verdict;
	__u8 drop_reason;
	__u8 match_type;
	__u8 pad;
	__u32 ifindex;
	__u32 endpoint_id;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 cookie;
};

static __always_inline void weir_fill_event(struct weir_flow_event *ev, const struct weir_event_context *ctx,
					    const struct weir_packet *pkt, __u16 length)
{
	ev->header.version = WEIR_EVENT_VERSION;
	ev->header.type = ctx->type;
	ev->header.length = length;
	ev->header.cpu = bpf_get_smp_processor_id();
	ev->timestamp_ns = bpf_ktime_get_ns();
	ev->ifindex = ctx->ifindex;
	ev->endpoint_id = ctx->endpoint_id;
	ev->src_identity = ctx->src_identity;
	ev->dst_identity = ctx->dst_identity;
	__builtin_memcpy(ev->saddr, pkt->saddr, 16);
	__builtin_memcpy(ev->daddr, pkt->daddr, 16);
	if (pkt->protocol == IPPROTO_ICMP || pkt->protocol == WEIR_IPPROTO_ICMPV6) {
		ev->sport = pkt->icmp_type;
		ev->dport = pkt->icmp_code;
	} else {
		ev->sport = bpf_ntohs(pkt->sport);
		ev->dport = bpf_ntohs(pkt->dport);
	}
	ev->family = pkt->family;
	ev->protocol = pkt->protocol;
	ev->verdict = ctx->verdict;
	ev->drop_reason = ctx->drop_reason;
	ev->direction = ctx->direction;
	ev->match_type = ctx->match_type;
	ev->tcp_flags = pkt->tcp_flags;
	ev->is_reply = ctx->is_reply;
	ev->trace_point = ctx->trace_point;
	ev->pad[0] = ev->pad[1] = ev->pad[2] = 0;
	ev->policy_cookie = ctx->cookie;
	ev->packet_length = pkt->length;
	ev->payload_length = 0;
	ev->payload_offset = 0;
	ev->pad2 = 0;
}

static __always_inline void weir_emit(const struct weir_event_context *ctx, const struct weir_packet *pkt)
{
	struct weir_flow_event *ev = bpf_ringbuf_reserve(&weir_events, sizeof(*ev), 0);
	if (!ev) {
		weir_health_inc(WEIR_HEALTH_EVENTS_LOST);
		return;
	}
	weir_fill_event(ev, ctx, pkt, sizeof(*ev));
	bpf_ringbuf_submit(ev, 0);
}

struct weir_dns_event {
	struct weir_flow_event flow;
	__u8 payload[WEIR_DNS_PAYLOAD_MAX];
};

/* A DNS packet with up to WEIR_DNS_PAYLOAD_MAX bytes of its payload, for the agent to parse. */
static __always_inline void weir_emit_dns(struct __sk_buff *skb, const struct weir_event_context *ctx,
					  const struct weir_packet *pkt)
{
	struct weir_dns_event *ev = bpf_ringbuf_reserve(&weir_events, sizeof(*ev), 0);
	if (!ev) {
		weir_health_inc(WEIR_HEALTH_EVENTS_LOST);
		return;
	}
	__u32 offset = pkt->payload_offset;
	__u32 captured = 0;
	if (offset < skb->len) {
		captured = skb->len - offset;
		if (captured > WEIR_DNS_PAYLOAD_MAX)
			captured = WEIR_DNS_PAYLOAD_MAX;
	}
	if (captured > 0) {
		/*
		 * 1..WEIR_DNS_PAYLOAD_MAX in a form the verifier can follow: clang would otherwise fold
		 * the range checks into a signed comparison it cannot.
		 */
		__u32 n = captured - 1;
		asm volatile("%0 &= 511" : "+r"(n));
		n += 1;
		if (bpf_skb_load_bytes(skb, offset, ev->payload, n) < 0)
			captured = 0;
	}
	/* The record keeps its reserved size; length says how much of it is payload. */
	weir_fill_event(&ev->flow, ctx, pkt, sizeof(ev->flow) + captured);
	ev->flow.payload_length = captured;
	ev->flow.payload_offset = offset;
	bpf_ringbuf_submit(ev, 0);
}

#endif
