/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libweir: the agent's handle on the datapath. A small API made for jnr-ffi: coarse calls that
 * each move many entries or records, so the Java side crosses the boundary rarely and the
 * syscalls are what is counted.
 *
 * Every function returns 0 or a count on success and a negative errno on failure, never aborts;
 * weir_last_error() says what failed, in this thread.
 */
#ifndef WEIR_H
#define WEIR_H

#include <stdint.h>
#include "weir_maps.h"

#ifdef __cplusplus
extern "C" {
#endif

struct weir_datapath;

struct weir_options {
	const char *object_path;   /* the compiled datapath, weir.bpf.o */
	const char *pin_root;      /* where maps are pinned, e.g. /sys/fs/bpf/weir */
	uint32_t policy_entries;   /* per endpoint policy map size; 0: WEIR_POLICY_ENTRIES_DEFAULT */
	uint32_t ct_entries;       /* per endpoint conntrack map size; 0: WEIR_CT_ENTRIES_DEFAULT */
	uint32_t ring_bytes;       /* ring buffer size, a power of two; 0: the object's default */
	uint32_t pad;
};

/*
 * Opens and loads the datapath. Maps already pinned under pin_root with a compatible definition
 * are adopted (their contents kept); missing ones are created and pinned.
 * On failure returns NULL and sets *error to a negative errno.
 */
struct weir_datapath *weir_open(const struct weir_options *options, int *error);

/* weir_open with the options as arguments, for callers that do not lay out structs (jnr-ffi). */
struct weir_datapath *weir_open_path(const char *object_path, const char *pin_root, uint32_t policy_entries,
				     uint32_t ct_entries, uint32_t ring_bytes, int *error);

/* Closes the handle. Pinned maps and attached programs stay: enforcement goes on. */
void weir_close(struct weir_datapath *dp);

/* 1 when the last weir_open adopted pinned maps, 0 when it created them. */
int weir_adopted(const struct weir_datapath *dp);

/*
 * Records the endpoint for the interface and creates the endpoint's policy and conntrack maps if
 * it has none, without attaching programs (tests run programs on it with weir_test_run).
 */
int weir_endpoint_register(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint);

/*
 * Makes the interface an endpoint: records {endpoint_id, identity, flags} for it, creates the
 * endpoint's policy map if it has none, and attaches weir_from_endpoint to its tc ingress and
 * weir_to_endpoint to its tc egress, replacing an attachment of an earlier load atomically.
 */
int weir_endpoint_attach(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint);

/* 1 when this load's programs run on both tc hooks of the interface, 0 when not, or a negative errno. */
int weir_endpoint_attached(struct weir_datapath *dp, uint32_t ifindex);

/* Reads what is recorded for an interface (by this or an earlier run). -ENOENT when nothing is. */
int weir_endpoint_lookup(struct weir_datapath *dp, uint32_t ifindex, struct weir_endpoint *out);

/*
 * The interfaces the endpoints map records (this run's and earlier runs'), up to max of them, in
 * ifindexes. Returns how many there are (which may be more than max) or a negative errno.
 */
int weir_endpoint_list(struct weir_datapath *dp, uint32_t *ifindexes, uint32_t max);

/* Changes an attached endpoint's identity or flags (isolation, audit). */
int weir_endpoint_update(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint);

/* Detaches the programs, forgets the interface and, with delete_policy, removes its policy and conntrack maps. */
int weir_endpoint_detach(struct weir_datapath *dp, uint32_t ifindex, uint32_t endpoint_id, int delete_policy);

/*
 * Removes whatever policy and conntrack maps an endpoint id still has (an earlier run's), so a new
 * endpoint given that id starts with none of its predecessor's entries. -EBUSY while an interface
 * is still recorded with the id.
 */
int weir_endpoint_reset_maps(struct weir_datapath *dp, uint32_t endpoint_id);

/*
 * Upserts n entries into an endpoint's policy map (an LPM trie: keys with prefixlen, see
 * weir_maps.h). Returns n or a negative errno; -E2BIG when the map is full.
 */
int weir_policy_upsert(struct weir_datapath *dp, uint32_t endpoint_id, const struct weir_policy_key *keys,
		       const struct weir_policy_entry *entries, uint32_t n);

/* Deletes n keys from an endpoint's policy map; missing keys are not an error. Returns deleted. */
int weir_policy_delete(struct weir_datapath *dp, uint32_t endpoint_id, const struct weir_policy_key *keys,
		       uint32_t n);

/*
 * Copies up to max entries of an endpoint's policy map into keys/entries, for reconciliation
 * against desired state. Returns how many were copied (0 for an endpoint without a map).
 */
int weir_policy_dump(struct weir_datapath *dp, uint32_t endpoint_id, struct weir_policy_key *keys,
		     struct weir_policy_entry *entries, uint32_t max);

/* Entries in an endpoint's policy map now, and its capacity (either may be NULL). */
int weir_policy_usage(struct weir_datapath *dp, uint32_t endpoint_id, uint32_t *entries, uint32_t *capacity);

/* Upserts / deletes ipcache prefixes. */
int weir_ipcache_upsert(struct weir_datapath *dp, const struct weir_ipcache_key *keys,
			const struct weir_ipcache_value *values, uint32_t n);
int weir_ipcache_delete(struct weir_datapath *dp, const struct weir_ipcache_key *keys, uint32_t n);

/*
 * Copies up to max_records ring-buffer records into buf, each as
 *   struct weir_record_header { uint32_t length; uint32_t reserved; } followed by length bytes,
 * padded to 8 bytes. Waits up to timeout_ms for the first record when none is ready (0: do not
 * wait). A record that does not fit in the space left stays in the ring for the next call.
 * Returns the number of bytes written to buf, or a negative errno.
 */
struct weir_record_header {
	uint32_t length;
	uint32_t reserved;
};
int weir_events_drain(struct weir_datapath *dp, uint8_t *buf, uint32_t buf_len, uint32_t max_records,
		      int timeout_ms);

/* Counters summed over CPUs: up to max {key, value} pairs. Returns how many were written. */
struct weir_counter {
	struct weir_metrics_key key;
	uint32_t pad;
	struct weir_metrics_value value;
};
int weir_counters_read(struct weir_datapath *dp, struct weir_counter *out, uint32_t max);

/* A health counter (WEIR_HEALTH_*) summed over CPUs, e.g. events lost to a full ring buffer. */
int64_t weir_health_read(struct weir_datapath *dp, uint32_t slot);

/* Runs a program on a packet with BPF_PROG_RUN; for tests and benchmarks.
 * program: 0 weir_from_endpoint, 1 weir_to_endpoint. Returns the tc action or a negative errno;
 * *duration_ns gets the kernel's mean run time per repetition. */
int weir_test_run(struct weir_datapath *dp, int program, const void *packet, uint32_t len, uint32_t ifindex,
		  uint32_t repeat, uint32_t *duration_ns);

/*
 * Deletes every conntrack entry past its lifetime at now_ns (CLOCK_MONOTONIC, as the datapath's
 * clock; 0: now), in batches. Returns how many were deleted; *scanned (may be NULL) gets how
 * many were read.
 */
int weir_ct_gc(struct weir_datapath *dp, uint64_t now_ns, uint64_t *scanned);

/* Makes the resolvers set exactly these addresses (at most WEIR_MAX_RESOLVERS). Returns n. */
int weir_resolvers_set(struct weir_datapath *dp, const struct weir_addr_key *keys, uint32_t n);

/* Forgets every tracked connection (tests, and an operator's last resort). Returns how many. */
int weir_ct_flush(struct weir_datapath *dp);

/* Entries in the conntrack table (a walk: for status, not for the hot path). */
int weir_ct_count(struct weir_datapath *dp);

/* The last error of this thread, as text. */
const char *weir_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
