/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy decision for a connection's first packet: two lookups in the endpoint's own LPM trie,
 * whatever the number of rules or the width of their port ranges — one for the remote identity,
 * one for any identity — each finding the most specific of {protocol, port prefix}.
 * A deny from either wins over every allow; without a deny, the remote identity's allow
 * decides, then any identity's; without an allow, an isolated endpoint drops and a non-isolated
 * one forwards. Within one identity the longest prefix decides, so the control plane never
 * writes an allow inside a deny's range (it would hide the deny).
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

static __always_inline struct weir_policy_entry *weir_policy_lookup(void *policy, __u32 identity, __u8 direction,
								    __u8 protocol, __u16 dport_host)
{
	struct weir_policy_key key = {
		.prefixlen = WEIR_POLICY_FULL_BITS,
		.identity = bpf_htonl(identity),
		.direction = direction,
		.protocol = protocol,
		.dport = bpf_htons(dport_host),
	};
	return bpf_map_lookup_elem(policy, &key);
}

static __always_inline __u8 weir_match_type(int any_identity, const struct weir_policy_entry *entry)
{
	int any_port = entry->prefixlen <= WEIR_POLICY_PROTO_BITS;
	if (any_identity)
		return any_port ? WEIR_MATCH_ALL : WEIR_MATCH_L4_ONLY;
	return any_port ? WEIR_MATCH_L3_ONLY : WEIR_MATCH_L3_L4;
}

static __always_inline void weir_policy_decide(__u32 endpoint_id, __u8 isolated, __u32 remote_identity,
					       __u16 dport_host, __u8 protocol, __u8 direction,
					       struct weir_verdict *out)
{
	void *policy = bpf_map_lookup_elem(&weir_policy, &endpoint_id);
	struct weir_policy_entry *specific = NULL, *any = NULL;

	if (policy) {
		specific = weir_policy_lookup(policy, remote_identity, direction, protocol, dport_host);
		any = weir_policy_lookup(policy, WEIR_IDENTITY_ANY, direction, protocol, dport_host);
	}
	struct weir_policy_entry *deny = specific && (specific->flags & WEIR_POLICY_DENY) ? specific
				       : any && (any->flags & WEIR_POLICY_DENY)	    ? any
										    : NULL;
	if (deny) {
		out->verdict = WEIR_VERDICT_DROPPED;
		out->drop_reason = WEIR_DROP_POLICY_DENY;
		out->match_type = weir_match_type(deny == any, deny);
		out->cookie = deny->cookie;
		return;
	}
	struct weir_policy_entry *allow = specific ? specific : any;
	if (allow) {
		out->verdict = WEIR_VERDICT_FORWARDED;
		out->drop_reason = WEIR_DROP_NONE;
		out->match_type = weir_match_type(allow == any, allow);
		out->cookie = allow->cookie;
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
