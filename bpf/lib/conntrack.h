/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking: decides whether a packet belongs to a connection the policy already
 * allowed, in either direction, so that only a connection's first packet costs a policy lookup
 * and the replies of an allowed connection always pass. Entries live in the endpoint's own map
 * and only as long as their lifetime (weir_ct_lifetime_ns): an expired entry is a new connection.
 */
#ifndef WEIR_LIB_CONNTRACK_H
#define WEIR_LIB_CONNTRACK_H

#include "maps.h"
#include "parse.h"
#include "events.h"

enum weir_ct_state {
	WEIR_CT_NEW = 0,
	WEIR_CT_ESTABLISHED = 1, /* same direction as the packet that opened it */
	WEIR_CT_REPLY = 2,
};

/* The key of a packet with these addresses and ports as it travels in direction. */
static __always_inline void weir_ct_key_of(struct weir_ct_key *key, const __u8 *saddr, const __u8 *daddr,
					   __u16 sport, __u16 dport, __u8 protocol, __u8 family,
					   __u32 endpoint_id, __u8 direction)
{
	__builtin_memcpy(key->saddr, saddr, 16);
	__builtin_memcpy(key->daddr, daddr, 16);
	key->sport = sport;
	key->dport = dport;
	key->protocol = protocol;
	key->family = family;
	key->direction = direction;
	key->pad = 0;
	key->endpoint_id = endpoint_id;
}

static __always_inline __u8 weir_opposite(__u8 direction)
{
	return direction == WEIR_DIR_INGRESS ? WEIR_DIR_EGRESS : WEIR_DIR_INGRESS;
}

/*
 * Looks up the connection of a packet {saddr, daddr, sport, dport} travelling in direction: as
 * the packet that opened it (ESTABLISHED) or as its reply (REPLY, the key reversed and in the
 * opposite direction). An entry past its lifetime is deleted and the packet is NEW. On a hit,
 * *entry points at the map value (updated in place) and *key holds the key that matched.
 */
static __always_inline int weir_ct_lookup(void *ct, struct weir_ct_key *key, const __u8 *saddr, const __u8 *daddr,
					  __u16 sport, __u16 dport, __u8 protocol, __u8 family, __u32 endpoint_id,
					  __u8 direction, __u64 now, struct weir_ct_entry **entry)
{
	int state = WEIR_CT_ESTABLISHED;
	weir_ct_key_of(key, saddr, daddr, sport, dport, protocol, family, endpoint_id, direction);
	*entry = bpf_map_lookup_elem(ct, key);
	if (!*entry) {
		state = WEIR_CT_REPLY;
		weir_ct_key_of(key, daddr, saddr, dport, sport, protocol, family, endpoint_id, weir_opposite(direction));
		*entry = bpf_map_lookup_elem(ct, key);
	}
	if (*entry && weir_ct_expired(key, *entry, now)) {
		bpf_map_delete_elem(ct, key);
		weir_health_inc(WEIR_HEALTH_CT_EXPIRED);
		*entry = NULL;
	}
	if (*entry)
		return state;
	weir_ct_key_of(key, saddr, daddr, sport, dport, protocol, family, endpoint_id, direction);
	return WEIR_CT_NEW;
}

/*
 * Counts the packet and follows TCP's closing: FIN from both sides or an RST shortens the
 * entry's lifetime to the closing one instead of deleting it, so a forged RST ends nothing by
 * itself, and any later packet that is not an RST takes the RST back (the connection lives).
 */
static __always_inline void weir_ct_touch(struct weir_ct_entry *entry, int state, __u8 tcp_flags, __u8 protocol,
					  __u64 now, __u32 length)
{
	entry->last_seen_ns = now;
	__sync_fetch_and_add(&entry->packets, 1);
	__sync_fetch_and_add(&entry->bytes, length);
	__u8 flags = entry->flags;
	if (state == WEIR_CT_REPLY)
		flags |= WEIR_CT_SEEN_REPLY;
	if (protocol == IPPROTO_TCP) {
		if (tcp_flags & WEIR_TCP_RST)
			flags |= WEIR_CT_RST;
		else
			flags &= ~WEIR_CT_RST;
		if (tcp_flags & WEIR_TCP_FIN)
			flags |= state == WEIR_CT_REPLY ? WEIR_CT_FIN_REPLY : WEIR_CT_FIN_FORWARD;
	}
	if (flags != entry->flags)
		entry->flags = flags;
}

#endif
