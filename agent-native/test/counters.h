/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading one datapath counter in tests. */
#ifndef WEIR_TEST_COUNTERS_H
#define WEIR_TEST_COUNTERS_H

#include "weir.h"

/* Packets counted for {verdict, drop reason, direction}, summed over CPUs; 0 when never counted. */
static inline uint64_t packets_counted(struct weir_datapath *dp, uint8_t verdict, uint8_t reason, uint8_t direction)
{
	struct weir_counter c[256];
	int n = weir_counters_read(dp, c, 256);
	for (int i = 0; i < n; i++)
		if (c[i].key.verdict == verdict && c[i].key.drop_reason == reason && c[i].key.direction == direction)
			return c[i].value.packets;
	return 0;
}

#endif
