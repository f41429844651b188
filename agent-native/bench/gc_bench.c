// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The cost of conntrack garbage collection (weir_ct_gc) by the number of tracked connections,
 * up to 262,144 over 4 endpoints. Connections are opened by running the datapath on UDP packets
 * with BPF_PROG_RUN; a sweep that finds nothing expired (the agent's usual case) and a sweep at
 * a clock past every lifetime (all deleted) are timed with CLOCK_MONOTONIC. Root only.
 *
 * usage: gc_bench <weir.bpf.o> [total entries]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weir.h"
#include "packets.h"

#define LO 1
#define ENDPOINTS 4

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WEIR_NSEC_PER_SEC + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <weir.bpf.o> [total entries]\n", argv[0]);
		return 2;
	}
	uint32_t total = argc > 2 ? (uint32_t)atoi(argv[2]) : 262144;
	uint32_t per_endpoint = total / ENDPOINTS;
	char pin_root[96];
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/weir-gcbench-%d", getpid());
	struct weir_options options = { .object_path = argv[1], .pin_root = pin_root, .ct_entries = per_endpoint };
	int err;
	struct weir_datapath *dp = weir_open(&options, &err);
	if (!dp) {
		fprintf(stderr, "cannot load the datapath: %s\n", weir_last_error());
		return 2;
	}
	static uint8_t drain[1 << 22];
	uint64_t fill_start = now_ns();
	for (uint32_t e = 0; e < ENDPOINTS; e++) {
		/* Each endpoint in turn on the test interface; its packets come from 198.18.<e>.x. */
		struct weir_endpoint ep = { .endpoint_id = 100 + e, .identity = 300, .policy_revision = 1 };
		weir_endpoint_register(dp, LO, &ep);
		for (uint32_t i = 0; i < per_endpoint; i++) {
			char src[32];
			snprintf(src, sizeof(src), "198.18.%u.%u", 16 + e, 1 + i / 60000);
			struct flow_spec f = { .family = 4, .src = src, .dst = "198.18.0.2", .protocol = IPPROTO_UDP,
					       .sport = (uint16_t)(1 + i % 60000), .dport = 9 };
			struct packet p;
			build_packet(&p, &f);
			if (weir_test_run(dp, 1, p.data, p.len, LO, 1, NULL) != 0) {
				fprintf(stderr, "connection %u of endpoint %u refused: %s\n", i, e, weir_last_error());
				return 1;
			}
			if ((i & 4095) == 0)
				while (weir_events_drain(dp, drain, sizeof(drain), 1 << 16, 0) > 0)
					;
		}
	}
	uint64_t filled = now_ns() - fill_start;
	int tracked = weir_ct_count(dp);
	uint64_t scanned = 0;
	uint64_t t0 = now_ns();
	int none = weir_ct_gc(dp, 0, &scanned);
	uint64_t keep_ns = now_ns() - t0;
	uint64_t t1 = now_ns();
	int all = weir_ct_gc(dp, now_ns() + 3600 * WEIR_NSEC_PER_SEC, NULL);
	uint64_t delete_ns = now_ns() - t1;
	printf("tracked %d connections over %d endpoints (opened in %.1f s)\n", tracked, ENDPOINTS, filled / 1e9);
	printf("gc, nothing expired: %.1f ms (%.1f ns/entry), %d deleted, %llu scanned\n", keep_ns / 1e6,
	       (double)keep_ns / (scanned ? scanned : 1), none, (unsigned long long)scanned);
	printf("gc, everything expired: %.1f ms (%.1f ns/entry), %d deleted\n", delete_ns / 1e6,
	       (double)delete_ns / (all ? all : 1), all);
	printf("left: %d\n", weir_ct_count(dp));
	weir_endpoint_detach(dp, LO, 103, 1);
	weir_close(dp);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pin_root);
	return system(cmd) == 0 && none == 0 && all == tracked ? 0 : 1;
}
