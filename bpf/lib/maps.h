/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's maps. All are pinned by name under the loader's pin root (/sys/fs/bpf/weir),
 * so a restarted agent adopts them and enforcement never stops. Sizes are defaults the loader may
 * change before load.
 */
#ifndef WEIR_LIB_MAPS_H
#define WEIR_LIB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "weir_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__type(key, struct weir_ipcache_key);
	__type(value, struct weir_ipcache_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEIR_MAX_ENDPOINTS);
	__type(key, __u32); /* host-side interface index */
	__type(value, struct weir_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEIR_MAX_RESOLVERS);
	__type(key, struct weir_addr_key);
	__type(value, __u32); /* reserved */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_resolvers SEC(".maps");

/* The ipcache's generation: libweir moves it on after every ipcache write. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_ipcache_generation SEC(".maps");

/*
 * Types named only through pointers (the map-of-maps templates' keys and values, the ring-buffer
 * records) get mere forward declarations in BTF, and the numbers C and Java share are macros or
 * enum constants BTF only knows when a type uses them. This unused variable, in a section libbpf
 * skips, makes the compiler emit their full BTF, so the agent's tests read both from the object.
 */
struct weir_btf_anchor {
	struct weir_policy_key key;
	struct weir_policy_entry entry;
	struct weir_ct_key ct_key;
	struct weir_ct_entry ct_entry;
	struct weir_event_header header;
	struct weir_flow_event event;
	struct weir_addr_key addr;
	enum weir_endpoint_flag endpoint_flag;
	enum weir_direction direction;
	enum weir_policy_flag policy_flag;
	enum weir_ct_flag ct_flag;
	enum weir_verdict_code verdict;
	enum weir_drop_reason drop_reason;
	enum weir_match_type match_type;
	enum weir_health_slot health_slot;
	enum weir_event_type event_type;
	enum weir_trace_point trace_point;
};
struct weir_btf_anchor weir_btf_anchor __attribute__((section(".weir.btf"), used));

/*
 * The template of every endpoint's policy map; libweir creates one per endpoint, of the
 * configured size. LPM tries are allocated as entries come (no preallocation).
 */
struct weir_policy_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, WEIR_POLICY_ENTRIES_DEFAULT);
	__type(key, struct weir_policy_key);
	__type(value, struct weir_policy_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, WEIR_MAX_ENDPOINTS);
	__type(key, __u32); /* endpoint id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct weir_policy_inner);
} weir_policy SEC(".maps");

/*
 * The template of every endpoint's conntrack map. Not preallocated, so an endpoint's share costs
 * memory only as it is used; never LRU: an entry goes when its lifetime is over, never because
 * another connection needed the room (a full map drops new connections and counts them).
 */
struct weir_ct_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WEIR_CT_ENTRIES_DEFAULT);
	__type(key, struct weir_ct_key);
	__type(value, struct weir_ct_entry);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, WEIR_MAX_ENDPOINTS);
	__type(key, __u32); /* endpoint id */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct weir_ct_inner);
} weir_ct SEC(".maps");

/* First fragments' ports, briefly: losing one only drops the fragments that follow it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct weir_frag_key);
	__type(value, struct weir_frag_ports);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_fragments SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct weir_metrics_key);
	__type(value, struct weir_metrics_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WEIR_HEALTH_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} weir_health SEC(".maps");

#endif
