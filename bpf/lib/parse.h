/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing: Ethernet, IPv4/IPv6 (IPv6 extension headers skipped), TCP, UDP, ICMP, ICMPv6,
 * SCTP. Decides only what the packet is; every read is checked against data_end, and a packet
 * too short for the headers it announces is "invalid", never read past its end.
 */
#ifndef WEIR_LIB_PARSE_H
#define WEIR_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "weir_maps.h"

#define WEIR_IPPROTO_ICMPV6 58
#define WEIR_IPPROTO_SCTP 132
#define WEIR_IPV6_EXT_MAX 4

struct weir_packet {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* network byte order; ICMP echo: the identifier */
	__u16 dport;
	__u8 family;
	__u8 protocol;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 is_fragment;       /* a non-first fragment: no L4 header, ports from weir_fragments */
	__u8 is_first_fragment; /* offset 0 with more to come: its ports are remembered */
	__u8 icmp_error;        /* an ICMP error; inner_* name the packet it is about when quote_ok */
	__u8 quote_ok;
	__u8 hop_limit;         /* IPv6 hop limit (neighbour discovery needs 255, MLD 1) */
	__u8 inner_protocol;
	__u16 payload_offset;   /* L4 payload from the start of the frame */
	__u16 inner_sport;      /* network byte order */
	__u16 inner_dport;
	__u32 frag_id;
	__u32 length;
	__u8 inner_saddr[16];
	__u8 inner_daddr[16];
};

enum weir_parse_result {
	WEIR_PARSE_OK = 0,
	WEIR_PARSE_PASS_L2 = 1, /* ARP and other link-layer control traffic: not policy's business */
};

#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* ICMP errors that quote the packet they are about: destination unreachable (which carries
 * "fragmentation needed"), time exceeded, parameter problem; ICMPv6 also "packet too big". */
static __always_inline int weir_is_icmp_error(__u8 protocol, __u8 type)
{
	if (protocol == IPPROTO_ICMP)
		return type == 3 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/*
 * The quoted packet of an ICMP error at off: its addresses, protocol and ports (the first 8 bytes
 * of its L4 header, all an error must quote). Returns 0, or -1 when the quote is too short or of
 * another family, and the error is then judged as ICMP on its own.
 */
static __always_inline int weir_parse_icmp_quote(void *data, void *data_end, __u32 off, struct weir_packet *pkt)
{
	__u8 inner;
	if (pkt->family == WEIR_FAMILY_IPV4) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl != 5)
			return -1;
		__builtin_memcpy(pkt->inner_saddr, &ip->saddr, 4);
		__builtin_memcpy(pkt->inner_daddr, &ip->daddr, 4);
		inner = ip->protocol;
		off += sizeof(*ip);
	} else {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return -1;
		__builtin_memcpy(pkt->inner_saddr, &ip6->saddr, 16);
		__builtin_memcpy(pkt->inner_daddr, &ip6->daddr, 16);
		inner = ip6->nexthdr;
		off += sizeof(*ip6);
	}
	__u8 *l4 = data + off;
	if ((void *)(l4 + 8) > data_end)
		return -1;
	if (inner == IPPROTO_TCP || inner == IPPROTO_UDP || inner == WEIR_IPPROTO_SCTP) {
		pkt->inner_sport = *(__u16 *)l4;
		pkt->inner_dport = *(__u16 *)(l4 + 2);
	} else if (inner == IPPROTO_ICMP || inner == WEIR_IPPROTO_ICMPV6) {
		__u8 t = l4[0];
		if (t != ICMP_ECHO_REQUEST && t != ICMP_ECHO_REPLY && t != ICMPV6_ECHO_REQUEST && t != ICMPV6_ECHO_REPLY)
			return -1; /* an error about an error: related to nothing */
		pkt->inner_sport = *(__u16 *)(l4 + 4);
		pkt->inner_dport = pkt->inner_sport;
	} else {
		return -1;
	}
	pkt->inner_protocol = inner;
	pkt->quote_ok = 1;
	return 0;
}

/* Returns WEIR_PARSE_* (>= 0) or the negated drop reason. */
static __always_inline int weir_parse(struct __sk_buff *skb, struct weir_packet *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 off = sizeof(*eth);
	__u8 nexthdr;

	pkt->length = skb->len;
	if ((void *)(eth + 1) > data_end)
		return -WEIR_DROP_INVALID_PACKET;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + off;
		if ((void *)(ip + 1) > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		if (ip->ihl < 5 || ip->version != 4)
			return -WEIR_DROP_INVALID_PACKET;
		if (bpf_ntohs(ip->tot_len) < ip->ihl * 4)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->family = WEIR_FAMILY_IPV4;
		__builtin_memcpy(pkt->saddr, &ip->saddr, 4);
		__builtin_memcpy(pkt->daddr, &ip->daddr, 4);
		nexthdr = ip->protocol;
		__u16 frag = bpf_ntohs(ip->frag_off);
		pkt->is_fragment = (frag & 0x1fff) != 0;
		pkt->is_first_fragment = (frag & 0x1fff) == 0 && (frag & 0x2000) != 0;
		pkt->frag_id = ip->id;
		off += ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		if (ip6->version != 6)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->family = WEIR_FAMILY_IPV6;
		__builtin_memcpy(pkt->saddr, &ip6->saddr, 16);
		__builtin_memcpy(pkt->daddr, &ip6->daddr, 16);
		nexthdr = ip6->nexthdr;
		pkt->hop_limit = ip6->hop_limit;
		off += sizeof(*ip6);
#pragma unroll
		for (int i = 0; i < WEIR_IPV6_EXT_MAX; i++) {
			if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING && nexthdr != IPPROTO_DSTOPTS &&
			    nexthdr != IPPROTO_FRAGMENT)
				break;
			__u8 *ext = data + off;
			if ((void *)(ext + 8) > data_end)
				return -WEIR_DROP_INVALID_PACKET;
			if (nexthdr == IPPROTO_FRAGMENT) {
				/* One fragment header only: a second one is read differently by receivers. */
				if (pkt->is_fragment || pkt->is_first_fragment)
					return -WEIR_DROP_INVALID_PACKET;
				/* fragment offset: 13 bits after the first two bytes */
				__u16 frag = ext[2] << 8 | ext[3];
				pkt->is_fragment = (frag & 0xfff8) != 0;
				pkt->is_first_fragment = (frag & 0xfff8) == 0 && (frag & 1) != 0;
				pkt->frag_id = *(__u32 *)(ext + 4);
				nexthdr = ext[0];
				off += 8;
				/* What follows a later fragment's header is payload, not headers. */
				if (pkt->is_fragment)
					break;
			} else {
				nexthdr = ext[0];
				off += (ext[1] + 1) * 8;
			}
			if (off > 512)
				return -WEIR_DROP_INVALID_PACKET;
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		return WEIR_PARSE_PASS_L2;
	} else {
		return -WEIR_DROP_UNSUPPORTED_L3;
	}

	pkt->protocol = nexthdr;
	if (pkt->is_fragment) {
		/* Later fragments carry no ports; the datapath finds their first fragment's. */
		pkt->payload_offset = off;
		return WEIR_PARSE_OK;
	}
	/* The verifier needs a bounded offset before it is added to a packet pointer. */
	if (off > 512)
		return -WEIR_DROP_INVALID_PACKET;

	switch (nexthdr) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = data + off;
		if ((void *)(tcp + 1) > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		if (tcp->doff < 5)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->sport = tcp->source;
		pkt->dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
		pkt->payload_offset = off + tcp->doff * 4;
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = data + off;
		if ((void *)(udp + 1) > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->sport = udp->source;
		pkt->dport = udp->dest;
		pkt->payload_offset = off + sizeof(*udp);
		break;
	}
	case WEIR_IPPROTO_SCTP: {
		/* common header: source port, destination port, verification tag, checksum */
		__u16 *ports = data + off;
		if ((void *)(ports) + 12 > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->sport = ports[0];
		pkt->dport = ports[1];
		pkt->payload_offset = off + 12;
		break;
	}
	case IPPROTO_ICMP:
	case WEIR_IPPROTO_ICMPV6: {
		__u8 *icmp = data + off;
		if ((void *)(icmp + 8) > data_end)
			return -WEIR_DROP_INVALID_PACKET;
		pkt->icmp_type = icmp[0];
		pkt->icmp_code = icmp[1];
		/* Echo request and reply share the identifier: it tracks the "connection". */
		__u8 t = icmp[0];
		if (t == ICMP_ECHO_REQUEST || t == ICMP_ECHO_REPLY || t == ICMPV6_ECHO_REQUEST ||
		    t == ICMPV6_ECHO_REPLY) {
			__u16 id = *(__u16 *)(icmp + 4);
			pkt->sport = id;
			pkt->dport = id;
		} else if (weir_is_icmp_error(nexthdr, t)) {
			pkt->icmp_error = 1;
			weir_parse_icmp_quote(data, data_end, off + 8, pkt);
		}
		pkt->payload_offset = off + 8;
		break;
	}
	default:
		return -WEIR_DROP_UNSUPPORTED_L4;
	}
	return WEIR_PARSE_OK;
}

#endif
