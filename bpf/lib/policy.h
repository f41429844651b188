/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy decision for a connection's first packet: a handful of hash lookups in the endpoint's
 * own policy map, whatever the number of rules. From the most to the least specific key:
 *   {identity, port, proto}  {identity, any port, proto}  {identity, any port, any proto}
 *   {any, port, proto}       {any, any port, proto}       {any, any port, any proto}
 * A deny entry at any of them wins over every allow. Without a deny, the most specific allow
 * decides; without an allow, an isolated endpoint drops and a non-isolated one forwards.
 */
#ifndef WEIR_LIB_POLICY_H
#define WEIR_LIB_POLICY_H

#include "maps.h"

struct weir_verdict {
	__u8 verdict;
	__u8 drop_reason;
	__u8 match_type;
	__u8 pad;
	__u32 cookie;
};

#define WEIR_POLICY_CANDIDATES 6

static __always_inline __u8 weir_match_type(int candidate)
{
	switch (candidate) {
	case 0:
		return WEIR_MATCH_L3_L4;
	case 1:
	case 2:
		return WEIR_MATCH_L3_ONLY;
	case 3:
	case 4:
		return WEIR_MATCH_L4_ONLY;
	default:
		return WEIR_MATCH_ALL;
	}
}

static __always_inline void weir_policy_decide(__u32 endpoint_id, __u8 isolated, __u32 remote_identity,
					       __u16 dport_host, __u8 protocol, __u8 direction,
					       struct weir_verdict *out)
{
	void *policy = bpf_map_lookup_elem(&weir_policy, &endpoint_id);
	int allowed = -1;
	__u32 allow_cookie = 0;

	if (policy) {
#pragma unroll
		for (int i = 0; i < WEIR_POLICY_CANDIDATES; i++) {
			struct weir_policy_key key = {
				.identity = i < 3 ? remote_identity : WEIR_IDENTITY_ANY,
				.dport = (i == 0 || i == 3) ? dport_host : WEIR_PORT_ANY,
				.protocol = (i == 2 || i == 5) ? WEIR_PROTO_ANY : protocol,
				.direction = direction,
			};
			struct weir_policy_entry *entry = bpf_map_lookup_elem(policy, &key);
			if (!entry)
				continue;
			if (entry->flags & WEIR_POLICY_DENY) {
				out->verdict = WEIR_VERDICT_DROPPED;
				out->drop_reason = WEIR_DROP_POLICY_DENY;
				out->match_type = weir_match_type(i);
				out->cookie = entry->cookie;
				return;
			}
			if (allowed < 0) {
				allowed = i;
				allow_cookie = entry->cookie;
			}
		}
	}
	if (allowed >= 0) {
		out->verdict = WEIR_VERDICT_FORWARDED;
		out->drop_reason = WEIR_DROP_NONE;
		out->match_type = weir_match_type(allowed);
		out->cookie = allow_cookie;
	} else if (isolated) {
		out->verdict = WEIR_VERDICT_DROPPED;
		out->drop_reason = WEIR_DROP_POLICY_DENIED;
		out->match_type = WEIR_MATCH_NONE;
		out->cookie = 0;
	} else {
		out->verdict = WEIR_VERDICT_FORWARDED;
		out->drop_reason = WEIR_DROP_NONE;
		out->match_type = WEIR_MATCH_NOT_ISOLATED;
		out->cookie = 0;
	}
}

#endif
