/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking: decides whether a packet belongs to a connection the policy already
 * allowed, in either direction, so that only a connection's first packet costs a policy lookup
 * and the replies of an allowed connection always pass.
 */
#ifndef WEIR_LIB_CONNTRACK_H
#define WEIR_LIB_CONNTRACK_H

#include "maps.h"
#include "parse.h"

enum weir_ct_state {
	WEIR_CT_NEW = 0,
	WEIR_CT_ESTABLISHED = 1, /* same direction as the packet that opened it */
	WEIR_CT_REPLY = 2,
};

static __always_inline void weir_ct_key_forward(struct weir_ct_key *key, const struct weir_packet *pkt,
						 __u32 endpoint_id, __u8 direction)
{
	__builtin_memcpy(key->saddr, pkt->saddr, 16);
	__builtin_memcpy(key->daddr, pkt->daddr, 16);
	key->sport = pkt->sport;
	key->dport = pkt->dport;
	key->protocol = pkt->protocol;
	key->family = pkt->family;
	key->direction = direction;
	key->pad = 0;
	key->endpoint_id = endpoint_id;
}

static __always_inline void weir_ct_key_reverse(struct weir_ct_key *key, const struct weir_packet *pkt,
						 __u32 endpoint_id, __u8 direction)
{
	__builtin_memcpy(key->saddr, pkt->daddr, 16);
	__builtin_memcpy(key->daddr, pkt->saddr, 16);
	key->sport = pkt->dport;
	key->dport = pkt->sport;
	key->protocol = pkt->protocol;
	key->family = pkt->family;
	/* the reply travels in the opposite enforcement direction */
	key->direction = direction == WEIR_DIR_INGRESS ? WEIR_DIR_EGRESS : WEIR_DIR_INGRESS;
	key->pad = 0;
	key->endpoint_id = endpoint_id;
}

/*
 * Looks the packet up. On a hit, *entry points at the map value (updated in place) and *key
 * holds the key that matched.
 */
static __always_inline int weir_ct_lookup(struct weir_ct_key *key, const struct weir_packet *pkt,
					  __u32 endpoint_id, __u8 direction, struct weir_ct_entry **entry)
{
	weir_ct_key_forward(key, pkt, endpoint_id, direction);
	*entry = bpf_map_lookup_elem(&weir_ct, key);
	if (*entry)
		return WEIR_CT_ESTABLISHED;
	weir_ct_key_reverse(key, pkt, endpoint_id, direction);
	*entry = bpf_map_lookup_elem(&weir_ct, key);
	if (*entry)
		return WEIR_CT_REPLY;
	weir_ct_key_forward(key, pkt, endpoint_id, direction);
	return WEIR_CT_NEW;
}

static __always_inline void weir_ct_touch(struct weir_ct_entry *entry, __u64 now, __u32 length)
{
	entry->last_seen_ns = now;
	__sync_fetch_and_add(&entry->packets, 1);
	__sync_fetch_and_add(&entry->bytes, length);
}

#endif
