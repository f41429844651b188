// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decision cost of a new connection's first packet, by the size of the endpoint's policy map,
 * measured with BPF_PROG_RUN (the kernel times the program; no network involved). Root only.
 *
 * The map holds port ranges (each identity allows 1000-1999, split into prefixes as the agent
 * writes them). The probed packet comes from an identity no entry names, on a port no entry
 * names, to an isolated endpoint: both LPM lookups (its identity, any identity) miss, the
 * ipcache and both conntrack lookups run, and the packet is dropped, so no conntrack entry
 * turns the next repetition into an established packet. Sizes are measured in interleaved rounds so that the
 * machine's drift falls on all of them alike; the ring buffer is drained between batches.
 *
 * usage: decision_bench <weir.bpf.o> [rounds] [repeat per batch]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weir.h"
#include "packets.h"
#include "policy_keys.h"

#define LO 1
#define EP 7
#define SIZES 3

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Identities 5000.. each deny TCP 1000-1999 (denies, so a hit drops and tracks nothing either). */
static uint32_t hit_identity(uint32_t n)
{
	return 5000 + (n / 12) / 2; /* 12 prefixes per identity: one in the middle of the map */
}

static void fill(struct weir_datapath *dp, uint32_t n)
{
	struct weir_policy_key *keys = calloc(n, sizeof(*keys));
	struct weir_policy_entry *entries = calloc(n, sizeof(*entries));
	/* identities 5000.., each allowing TCP 1000-1999: none matches the probe (identity 400, port 80) */
	struct weir_policy_key range[32];
	for (uint32_t i = 0, identity = 5000; i < n; identity++) {
		int k = policy_range_keys(identity, 1000, 1999, 6, WEIR_DIR_INGRESS, range, 32);
		for (int j = 0; j < k && i < n; j++, i++) {
			keys[i] = range[j];
			entries[i] = (struct weir_policy_entry){ .cookie = i, .flags = WEIR_POLICY_DENY,
								 .prefixlen = range[j].prefixlen };
		}
	}
	if (weir_policy_upsert(dp, EP, keys, entries, n) != (int)n) {
		fprintf(stderr, "fill %u: %s\n", n, weir_last_error());
		exit(2);
	}
	free(keys);
	free(entries);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s <weir.bpf.o> [rounds] [repeat]\n", argv[0]);
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 15;
	uint32_t repeat = argc > 3 ? (uint32_t)atoi(argv[3]) : 20000;
	const uint32_t sizes[SIZES] = { 10, 1000, WEIR_POLICY_ENTRIES_DEFAULT };
	char pin_root[96];
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/weir-bench-%d", getpid());
	struct weir_options options = { .object_path = argv[1], .pin_root = pin_root };
	int err;
	struct weir_datapath *dp = weir_open(&options, &err);
	if (!dp) {
		fprintf(stderr, "cannot load the datapath: %s\n", weir_last_error());
		return 2;
	}
	/* The miss comes from 198.18.0.1 (identity 400, named by no entry); the hit from 198.18.0.3,
	 * whose identity is the one in the middle of the map, on port 1500 of its denied range. */
	struct weir_ipcache_key key = { .prefixlen = WEIR_IPCACHE_PREFIX_BITS + 32, .family = WEIR_FAMILY_IPV4 };
	inet_pton(AF_INET, "198.18.0.1", key.addr);
	struct weir_ipcache_value value = { .identity = 400 };
	weir_ipcache_upsert(dp, &key, &value, 1);

	struct flow_spec miss = { .family = 4, .src = "198.18.0.1", .dst = "198.18.0.2", .protocol = 6,
				  .sport = 40000, .dport = 80, .tcp_flags = 0x02 };
	struct flow_spec hit = miss;
	hit.src = "198.18.0.3";
	hit.dport = 1500;
	struct packet probes[2];
	build_packet(&probes[0], &miss);
	build_packet(&probes[1], &hit);
	static uint8_t drain[1 << 22];
	double results[2][SIZES][64];
	if (rounds > 64)
		rounds = 64;

	for (int r = 0; r < rounds; r++) {
		for (int s = 0; s < SIZES; s++) {
			/* a fresh endpoint map of exactly this size for each measurement */
			weir_endpoint_detach(dp, LO, EP, 1);
			struct weir_endpoint ep = { .endpoint_id = EP, .identity = 300, .flags = WEIR_EP_INGRESS_ISOLATED,
						    .policy_revision = 1 };
			weir_endpoint_register(dp, LO, &ep);
			fill(dp, sizes[s]);
			inet_pton(AF_INET, "198.18.0.3", key.addr);
			value.identity = hit_identity(sizes[s]);
			weir_ipcache_upsert(dp, &key, &value, 1);
			inet_pton(AF_INET, "198.18.0.1", key.addr);
			for (int probe = 0; probe < 2; probe++) {
				uint32_t ns = 0;
				int rc = weir_test_run(dp, 1, probes[probe].data, probes[probe].len, LO, repeat, &ns);
				if (rc != 2) {
					fprintf(stderr, "unexpected verdict %d: %s\n", rc, weir_last_error());
					return 1;
				}
				results[probe][s][r] = ns;
				while (weir_events_drain(dp, drain, sizeof(drain), 1 << 16, 0) > 0)
					;
			}
		}
	}
	const char *names[2] = { "miss (no entry for the identity)", "hit (a denied port range)" };
	printf("policy entries | median ns/packet | min | max   (%d rounds x %u repetitions, entries are port ranges)\n",
	       rounds, repeat);
	for (int probe = 0; probe < 2; probe++) {
		double median[SIZES];
		printf("%s\n", names[probe]);
		for (int s = 0; s < SIZES; s++) {
			qsort(results[probe][s], rounds, sizeof(double), compare);
			median[s] = results[probe][s][rounds / 2];
			printf("%14u | %16.1f | %5.1f | %5.1f\n", sizes[s], median[s], results[probe][s][0],
			       results[probe][s][rounds - 1]);
		}
		printf("ratio %u/%u entries: %.2f\n", sizes[SIZES - 1], sizes[0], median[SIZES - 1] / median[0]);
	}
	printf("events lost while benchmarking: %lld\n", (long long)weir_health_read(dp, WEIR_HEALTH_EVENTS_LOST));
	weir_endpoint_detach(dp, LO, EP, 1);
	weir_close(dp);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pin_root);
	return system(cmd) == 0 ? 0 : 1;
}
