/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Packets built in memory for BPF_PROG_RUN: Ethernet, IPv4/IPv6, TCP/UDP/ICMP, payload. */
#ifndef WEIR_TEST_PACKETS_H
#define WEIR_TEST_PACKETS_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdint.h>
#include <string.h>

struct packet {
	uint8_t data[1600];
	uint32_t len;
};

struct flow_spec {
	int family;          /* 4 or 6 */
	const char *src;
	const char *dst;
	uint8_t protocol;    /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 58 */
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;   /* WEIR_TCP_* */
	uint8_t icmp_type;
	const uint8_t *payload;
	uint32_t payload_len;
};

static inline uint32_t build_packet(struct packet *p, const struct flow_spec *f)
{
	memset(p, 0, sizeof(*p));
	struct ethhdr *eth = (struct ethhdr *)p->data;
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", 6);
	uint32_t off = sizeof(*eth);
	uint32_t l4_len;
	switch (f->protocol) {
	case IPPROTO_TCP:
		l4_len = sizeof(struct tcphdr);
		break;
	case IPPROTO_UDP:
		l4_len = sizeof(struct udphdr);
		break;
	case 132: /* SCTP common header */
		l4_len = 12;
		break;
	default:
		l4_len = 8;
	}
	uint32_t total_l4 = l4_len + f->payload_len;
	if (f->family == 4) {
		eth->h_proto = htons(ETH_P_IP);
		struct iphdr *ip = (struct iphdr *)(p->data + off);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = f->protocol;
		ip->tot_len = htons(sizeof(*ip) + total_l4);
		inet_pton(AF_INET, f->src, &ip->saddr);
		inet_pton(AF_INET, f->dst, &ip->daddr);
		off += sizeof(*ip);
	} else {
		eth->h_proto = htons(ETH_P_IPV6);
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(p->data + off);
		ip6->version = 6;
		ip6->nexthdr = f->protocol;
		ip6->hop_limit = 64;
		ip6->payload_len = htons(total_l4);
		inet_pton(AF_INET6, f->src, &ip6->saddr);
		inet_pton(AF_INET6, f->dst, &ip6->daddr);
		off += sizeof(*ip6);
	}
	uint8_t *l4 = p->data + off;
	if (f->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (struct tcphdr *)l4;
		tcp->source = htons(f->sport);
		tcp->dest = htons(f->dport);
		tcp->doff = 5;
		tcp->window = htons(65535);
		l4[13] = f->tcp_flags;
	} else if (f->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (struct udphdr *)l4;
		udp->source = htons(f->sport);
		udp->dest = htons(f->dport);
		udp->len = htons(total_l4);
	} else if (f->protocol == 132) {
		l4[0] = (uint8_t)(f->sport >> 8);
		l4[1] = (uint8_t)f->sport;
		l4[2] = (uint8_t)(f->dport >> 8);
		l4[3] = (uint8_t)f->dport;
	} else {
		l4[0] = f->icmp_type;
		l4[1] = 0;
		l4[4] = (uint8_t)(f->sport >> 8); /* echo identifier */
		l4[5] = (uint8_t)f->sport;
	}
	off += l4_len;
	if (f->payload_len)
		memcpy(p->data + off, f->payload, f->payload_len);
	p->len = off + f->payload_len;
	return p->len;
}

/*
 * What an ICMP error quotes: the IPv4 header of the packet it is about and the first 8 bytes of
 * its L4 header (the ports), 28 bytes.
 */
static inline void build_icmp_quote(uint8_t quote[28], const char *src, const char *dst, uint8_t protocol,
				    uint16_t sport, uint16_t dport)
{
	memset(quote, 0, 28);
	quote[0] = 0x45;
	quote[3] = 40;
	quote[6] = 0x40; /* don't fragment: what "fragmentation needed" answers */
	quote[8] = 64;
	quote[9] = protocol;
	inet_pton(AF_INET, src, quote + 12);
	inet_pton(AF_INET, dst, quote + 16);
	quote[20] = sport >> 8;
	quote[21] = sport & 0xff;
	quote[22] = dport >> 8;
	quote[23] = dport & 0xff;
}

#endif
