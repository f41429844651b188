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
	__u8 is_fragment; /* a non-first fragment: no L4 header */
	__u16 payload_offset; /* L4 payload from the start of the frame */
	__u32 length;
};

enum weir_parse_result {
	WEIR_PARSE_OK = 0,
	WEIR_PARSE_PASS_L2 = 1, /* ARP and other link-layer control traffic: not policy's business */
};

#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

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
		pkt->is_fragment = (bpf_ntohs(ip->frag_off) & 0x1fff) != 0;
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
				/* fragment offset: 13 bits after the first two bytes */
				pkt->is_fragment = ((ext[2] << 8 | ext[3]) & 0xfff8) != 0;
				nexthdr = ext[0];
				off += 8;
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
		/* Later fragments carry no ports; they are judged as the protocol on any port. */
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
