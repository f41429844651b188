/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Policy map keys for tests and benchmarks: one port, any port, any protocol, or a port range as prefixes. */
#ifndef WEIR_TEST_POLICY_KEYS_H
#define WEIR_TEST_POLICY_KEYS_H

#include <arpa/inet.h>
#include <stdint.h>
#include "weir_maps.h"

/* port 0: any port of proto; proto 0: anything (port must be 0). */
static inline struct weir_policy_key policy_key(uint32_t identity, uint16_t port, uint8_t proto, uint8_t dir)
{
	uint32_t bits = !proto ? WEIR_POLICY_STATIC_BITS : !port ? WEIR_POLICY_PROTO_BITS : WEIR_POLICY_FULL_BITS;
	return (struct weir_policy_key){ .prefixlen = bits, .identity = htonl(identity), .direction = dir,
					 .protocol = proto, .dport = htons(port) };
}

/*
 * The prefixes that cover first..last exactly, at most max of them (a range of 16-bit ports needs
 * at most 30). Returns how many were written.
 */
static inline int policy_range_keys(uint32_t identity, uint16_t first, uint16_t last, uint8_t proto, uint8_t dir,
				    struct weir_policy_key *out, int max)
{
	int n = 0;
	uint32_t lo = first, hi = last;
	while (lo <= hi && n < max) {
		int bits = 0; /* low bits the block at lo may span */
		while (bits < 16 && (lo & ((1u << (bits + 1)) - 1)) == 0 && lo + (1u << (bits + 1)) - 1 <= hi)
			bits++;
		out[n] = policy_key(identity, (uint16_t)lo, proto, dir);
		out[n].prefixlen = WEIR_POLICY_FULL_BITS - bits;
		n++;
		lo += 1u << bits;
	}
	return n;
}

#endif
