// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libweir: open/load/pin-or-adopt the datapath, attach it to endpoints, write map entries in
 * batches, drain the event ring buffer into a caller's buffer, read counters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "weir.h"

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11
#define TC_HANDLE 1
#define TC_PRIORITY 1
#define BATCH 1024

struct endpoint_map {
	uint32_t endpoint_id;
	int fd;
};

/* endpoint id -> fd of one of its inner maps, so a write costs no lookup syscalls */
struct fd_cache {
	struct endpoint_map *maps;
	uint32_t len;
	uint32_t cap;
};

/* One kind of per-endpoint inner map: the outer map of maps it is registered in, how to make one. */
struct inner_kind {
	const char *what;      /* for error texts */
	const char *prefix;    /* of the map's name */
	enum bpf_map_type type;
	uint32_t key_size;
	uint32_t value_size;
};

static const struct inner_kind POLICY_KIND = { "policy", "weir_pol_", BPF_MAP_TYPE_LPM_TRIE,
					       sizeof(struct weir_policy_key), sizeof(struct weir_policy_entry) };
static const struct inner_kind CT_KIND = { "conntrack", "weir_ct_", BPF_MAP_TYPE_HASH, sizeof(struct weir_ct_key),
					   sizeof(struct weir_ct_entry) };

struct weir_datapath {
	struct bpf_object *obj;
	int prog_from;
	int prog_to;
	int ipcache_fd;
	int endpoints_fd;
	int policy_fd;
	int ct_fd;
	int events_fd;
	int metrics_fd;
	int health_fd;
	int resolvers_fd;
	int generation_fd;
	uint32_t policy_entries;
	uint32_t ct_entries;
	int adopted;
	int ncpus;
	/* ring buffer, mapped as the kernel lays it out: consumer page, producer page, data twice */
	void *ring_consumer;
	void *ring_producer;
	uint8_t *ring_data;
	uint64_t ring_mask;
	size_t ring_size;
	int epoll_fd;
	struct fd_cache policy_maps;
	struct fd_cache ct_maps;
};

static __thread char last_error[512];
/* libbpf's word on a pinned map it could not reuse (an older layout): the error names it. */
static __thread char pin_mismatch[512];

static int fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(last_error) - 1 && err)
		snprintf(last_error + n, sizeof(last_error) - n, ": %s", strerror(-err));
	return err;
}

const char *weir_last_error(void)
{
	return last_error;
}

static int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level != LIBBPF_WARN)
		return 0;
	/*
	 * Netlink's extended acks ("Exclusivity flag on" for an existing clsact, "Parent Qdisc
	 * doesn't exists" when detaching from a bare interface) accompany errors libweir handles or
	 * reports itself through weir_last_error(): keep them out of stderr.
	 */
	if (strstr(format, "Kernel error message"))
		return 0;
	/* Keep the library's own words as the error text; they name the map or program. */
	va_list copy;
	va_copy(copy, args);
	vsnprintf(last_error, sizeof(last_error), format, copy);
	va_end(copy);
	if (strstr(format, "couldn't reuse pinned map") && !pin_mismatch[0])
		snprintf(pin_mismatch, sizeof(pin_mismatch), "%s", last_error);
	size_t len = strlen(last_error);
	if (len && last_error[len - 1] == '\n')
		last_error[len - 1] = 0;
	return vfprintf(stderr, format, args);
}

static int mkdir_p(const char *path)
{
	char buf[256];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	return map ? bpf_map__fd(map) : -ENOENT;
}

static int ring_map(struct weir_datapath *dp)
{
	struct bpf_map_info info = {};
	uint32_t info_len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(dp->events_fd, &info, &info_len);
	if (err)
		return fail(-errno, "reading the ring buffer's size");
	long page = sysconf(_SC_PAGESIZE);
	dp->ring_size = info.max_entries;
	dp->ring_mask = info.max_entries - 1;
	dp->ring_consumer = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, dp->events_fd, 0);
	if (dp->ring_consumer == MAP_FAILED) {
		dp->ring_consumer = NULL;
		return fail(-errno, "mapping the ring buffer's consumer page");
	}
	/* The data area is mapped twice in a row, so a record that wraps reads contiguously. */
	dp->ring_producer = mmap(NULL, page + 2 * dp->ring_size, PROT_READ, MAP_SHARED, dp->events_fd, page);
	if (dp->ring_producer == MAP_FAILED) {
		dp->ring_producer = NULL;
		return fail(-errno, "mapping the ring buffer's data");
	}
	dp->ring_data = (uint8_t *)dp->ring_producer + page;
	dp->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (dp->epoll_fd < 0)
		return fail(-errno, "epoll_create1");
	struct epoll_event ev = { .events = EPOLLIN };
	if (epoll_ctl(dp->epoll_fd, EPOLL_CTL_ADD, dp->events_fd, &ev))
		return fail(-errno, "watching the ring buffer");
	return 0;
}

struct weir_datapath *weir_open(const struct weir_options *options, int *error)
{
	libbpf_set_print(libbpf_print);
	last_error[0] = 0;
	struct weir_datapath *dp = calloc(1, sizeof(*dp));
	int err;
	if (!dp) {
		*error = fail(-ENOMEM, "allocating the datapath handle");
		return NULL;
	}
	dp->epoll_fd = -1;
	dp->policy_entries = options->policy_entries ? options->policy_entries : WEIR_POLICY_ENTRIES_DEFAULT;
	dp->ct_entries = options->ct_entries ? options->ct_entries : WEIR_CT_ENTRIES_DEFAULT;

	struct statfs fs;
	char parent[256];
	snprintf(parent, sizeof(parent), "%s", options->pin_root);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	if (statfs(parent, &fs) || fs.f_type != BPF_FS_MAGIC_NUMBER) {
		err = fail(-ENOTSUP, "%s is not on a BPF filesystem (mount -t bpf bpf /sys/fs/bpf)", parent);
		goto out;
	}
	err = mkdir_p(options->pin_root);
	if (err) {
		fail(err, "creating %s", options->pin_root);
		goto out;
	}
	char probe[300];
	snprintf(probe, sizeof(probe), "%s/weir_policy", options->pin_root);
	dp->adopted = access(probe, F_OK) == 0;

	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = options->pin_root);
	dp->obj = bpf_object__open_file(options->object_path, &open_opts);
	if (!dp->obj) {
		err = fail(-errno, "opening %s", options->object_path);
		goto out;
	}
	struct bpf_map *policy = bpf_object__find_map_by_name(dp->obj, "weir_policy");
	struct bpf_map *inner = policy ? bpf_map__inner_map(policy) : NULL;
	if (!inner) {
		err = fail(-ENOENT, "%s has no weir_policy map of maps", options->object_path);
		goto out;
	}
	/*
	 * The templates keep the object's sizes: libbpf 1.1 cannot resize an inner map template, and
	 * the kernel accepts hash maps and LPM tries of any size as inner maps, so each endpoint's
	 * policy and conntrack maps are created with the configured sizes instead.
	 */
	if (options->ring_bytes)
		bpf_map__set_max_entries(bpf_object__find_map_by_name(dp->obj, "weir_events"), options->ring_bytes);

	pin_mismatch[0] = 0;
	err = bpf_object__load(dp->obj);
	if (err) {
		char detail[sizeof(last_error)];
		snprintf(detail, sizeof(detail), "%s", last_error);
		size_t len = strlen(pin_mismatch);
		while (len && (pin_mismatch[len - 1] == '\n' || pin_mismatch[len - 1] == ' '))
			pin_mismatch[--len] = 0;
		if (pin_mismatch[0])
			fail(err, "loading %s: %s (pinned by another version of the datapath: remove %s to start anew)",
			     options->object_path, pin_mismatch, options->pin_root);
		else
			fail(err, "loading %s (%s)", options->object_path, detail);
		goto out;
	}
	struct bpf_program *from = bpf_object__find_program_by_name(dp->obj, "weir_from_endpoint");
	struct bpf_program *to = bpf_object__find_program_by_name(dp->obj, "weir_to_endpoint");
	if (!from || !to) {
		err = fail(-ENOENT, "%s lacks the weir_from_endpoint/weir_to_endpoint programs", options->object_path);
		goto out;
	}
	dp->prog_from = bpf_program__fd(from);
	dp->prog_to = bpf_program__fd(to);
	dp->ipcache_fd = map_fd(dp->obj, "weir_ipcache");
	dp->endpoints_fd = map_fd(dp->obj, "weir_endpoints");
	dp->policy_fd = map_fd(dp->obj, "weir_policy");
	dp->ct_fd = map_fd(dp->obj, "weir_ct");
	dp->events_fd = map_fd(dp->obj, "weir_events");
	dp->metrics_fd = map_fd(dp->obj, "weir_metrics");
	dp->health_fd = map_fd(dp->obj, "weir_health");
	dp->resolvers_fd = map_fd(dp->obj, "weir_resolvers");
	dp->generation_fd = map_fd(dp->obj, "weir_ipcache_generation");
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = fail(dp->ncpus ? dp->ncpus : -EINVAL, "counting possible CPUs");
		goto out;
	}
	err = ring_map(dp);
	if (err)
		goto out;
	*error = 0;
	return dp;
out:
	*error = err ? err : -EINVAL;
	weir_close(dp);
	return NULL;
}

struct weir_datapath *weir_open_path(const char *object_path, const char *pin_root, uint32_t policy_entries,
				     uint32_t ct_entries, uint32_t ring_bytes, int *error)
{
	struct weir_options options = { .object_path = object_path, .pin_root = pin_root,
					 .policy_entries = policy_entries, .ct_entries = ct_entries,
					 .ring_bytes = ring_bytes };
	return weir_open(&options, error);
}

int weir_adopted(const struct weir_datapath *dp)
{
	return dp->adopted;
}

void weir_close(struct weir_datapath *dp)
{
	if (!dp)
		return;
	long page = sysconf(_SC_PAGESIZE);
	if (dp->ring_consumer)
		munmap(dp->ring_consumer, page);
	if (dp->ring_producer)
		munmap(dp->ring_producer, page + 2 * dp->ring_size);
	if (dp->epoll_fd >= 0)
		close(dp->epoll_fd);
	struct fd_cache *caches[] = { &dp->policy_maps, &dp->ct_maps };
	for (int c = 0; c < 2; c++) {
		for (uint32_t i = 0; i < caches[c]->len; i++)
			close(caches[c]->maps[i].fd);
		free(caches[c]->maps);
	}
	bpf_object__close(dp->obj);
	free(dp);
}

/* ---- endpoints ------------------------------------------------------------------------------ */

static int cached_fd(const struct fd_cache *cache, uint32_t endpoint_id)
{
	for (uint32_t i = 0; i < cache->len; i++)
		if (cache->maps[i].endpoint_id == endpoint_id)
			return cache->maps[i].fd;
	return -ENOENT;
}

static int remember_fd(struct fd_cache *cache, uint32_t endpoint_id, int fd)
{
	if (cache->len == cache->cap) {
		uint32_t cap = cache->cap ? cache->cap * 2 : 16;
		struct endpoint_map *grown = realloc(cache->maps, cap * sizeof(*grown));
		if (!grown) {
			close(fd);
			return -ENOMEM;
		}
		cache->maps = grown;
		cache->cap = cap;
	}
	cache->maps[cache->len++] = (struct endpoint_map){ endpoint_id, fd };
	return fd;
}

static void forget_fd(struct fd_cache *cache, uint32_t endpoint_id)
{
	for (uint32_t i = 0; i < cache->len; i++) {
		if (cache->maps[i].endpoint_id == endpoint_id) {
			close(cache->maps[i].fd);
			cache->maps[i] = cache->maps[--cache->len];
			return;
		}
	}
}

/*
 * An endpoint's inner map of a kind: from the cache, from the pinned map of maps, or created
 * (create) and registered there.
 */
static int inner_map_fd(const struct inner_kind *kind, int outer_fd, struct fd_cache *cache, uint32_t entries,
			uint32_t endpoint_id, int create)
{
	int fd = cached_fd(cache, endpoint_id);
	if (fd >= 0)
		return fd;
	uint32_t inner_id;
	if (bpf_map_lookup_elem(outer_fd, &endpoint_id, &inner_id) == 0) {
		fd = bpf_map_get_fd_by_id(inner_id);
		if (fd < 0)
			return fail(-errno, "opening the %s map of endpoint %u", kind->what, endpoint_id);
		return remember_fd(cache, endpoint_id, fd);
	}
	if (!create)
		return fail(-ENOENT, "endpoint %u has no %s map", endpoint_id, kind->what);
	char name[BPF_OBJ_NAME_LEN];
	snprintf(name, sizeof(name), "%s%u", kind->prefix, endpoint_id);
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	fd = bpf_map_create(kind->type, name, kind->key_size, kind->value_size, entries, &opts);
	if (fd < 0)
		return fail(-errno, "creating the %s map of endpoint %u", kind->what, endpoint_id);
	if (bpf_map_update_elem(outer_fd, &endpoint_id, &fd, BPF_NOEXIST)) {
		int err = -errno;
		close(fd);
		if (err == -EEXIST)
			return inner_map_fd(kind, outer_fd, cache, entries, endpoint_id, 0);
		return fail(err, "registering the %s map of endpoint %u", kind->what, endpoint_id);
	}
	return remember_fd(cache, endpoint_id, fd);
}

static int policy_map_fd(struct weir_datapath *dp, uint32_t endpoint_id, int create)
{
	return inner_map_fd(&POLICY_KIND, dp->policy_fd, &dp->policy_maps, dp->policy_entries, endpoint_id, create);
}

static int ct_map_fd(struct weir_datapath *dp, uint32_t endpoint_id, int create)
{
	return inner_map_fd(&CT_KIND, dp->ct_fd, &dp->ct_maps, dp->ct_entries, endpoint_id, create);
}

/* Unregisters an endpoint's inner map of a kind; the kernel frees it with its last reference. */
static int drop_inner_map(const struct inner_kind *kind, int outer_fd, struct fd_cache *cache, uint32_t endpoint_id)
{
	forget_fd(cache, endpoint_id);
	if (bpf_map_delete_elem(outer_fd, &endpoint_id) && errno != ENOENT)
		return fail(-errno, "removing the %s map of endpoint %u", kind->what, endpoint_id);
	return 0;
}

static int drop_endpoint_maps(struct weir_datapath *dp, uint32_t endpoint_id)
{
	int err = drop_inner_map(&POLICY_KIND, dp->policy_fd, &dp->policy_maps, endpoint_id);
	if (err)
		return err;
	return drop_inner_map(&CT_KIND, dp->ct_fd, &dp->ct_maps, endpoint_id);
}

static int tc_attach(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return fail(err, "creating the clsact qdisc on interface %d", ifindex);
	/* REPLACE swaps the program of an earlier load in one step: no packet goes unjudged. */
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return fail(err, "attaching to %s of interface %d", point == BPF_TC_INGRESS ? "ingress" : "egress",
			    ifindex);
	return 0;
}

int weir_endpoint_register(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint)
{
	int fd = policy_map_fd(dp, endpoint->endpoint_id, 1);
	if (fd < 0)
		return fd;
	fd = ct_map_fd(dp, endpoint->endpoint_id, 1);
	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(dp->endpoints_fd, &ifindex, endpoint, BPF_ANY))
		return fail(-errno, "recording endpoint %u on interface %u", endpoint->endpoint_id, ifindex);
	return 0;
}

int weir_endpoint_attach(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint)
{
	/* The endpoint is known before its programs run, so its first packet is judged right. */
	int err = weir_endpoint_register(dp, ifindex, endpoint);
	if (err)
		return err;
	err = tc_attach(ifindex, BPF_TC_INGRESS, dp->prog_from);
	if (err)
		return err;
	return tc_attach(ifindex, BPF_TC_EGRESS, dp->prog_to);
}

static int tc_runs(int ifindex, enum bpf_tc_attach_point point, int prog_fd)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return fail(-errno, "reading the datapath program's id");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err = bpf_tc_query(&hook, &opts);
	if (err == -ENOENT || err == -EINVAL || err == -ENODEV)
		return 0;
	if (err)
		return fail(err, "querying tc on interface %d", ifindex);
	return opts.prog_id == info.id;
}

int weir_endpoint_attached(struct weir_datapath *dp, uint32_t ifindex)
{
	int from = tc_runs((int)ifindex, BPF_TC_INGRESS, dp->prog_from);
	if (from <= 0)
		return from;
	return tc_runs((int)ifindex, BPF_TC_EGRESS, dp->prog_to);
}

int weir_endpoint_lookup(struct weir_datapath *dp, uint32_t ifindex, struct weir_endpoint *out)
{
	if (bpf_map_lookup_elem(dp->endpoints_fd, &ifindex, out))
		return errno == ENOENT ? -ENOENT : fail(-errno, "looking up interface %u", ifindex);
	return 0;
}

int weir_endpoint_list(struct weir_datapath *dp, uint32_t *ifindexes, uint32_t max)
{
	uint32_t key, next;
	void *prev = NULL;
	uint32_t n = 0;
	int err;
	while ((err = bpf_map_get_next_key(dp->endpoints_fd, prev, &next)) == 0) {
		if (n < max)
			ifindexes[n] = next;
		n++;
		key = next;
		prev = &key;
	}
	if (errno != ENOENT)
		return fail(-errno, "listing the endpoints map");
	return (int)n;
}

int weir_endpoint_update(struct weir_datapath *dp, uint32_t ifindex, const struct weir_endpoint *endpoint)
{
	if (bpf_map_update_elem(dp->endpoints_fd, &ifindex, endpoint, BPF_EXIST))
		return fail(-errno, "updating endpoint %u on interface %u", endpoint->endpoint_id, ifindex);
	return 0;
}

int weir_endpoint_detach(struct weir_datapath *dp, uint32_t ifindex, uint32_t endpoint_id, int delete_policy)
{
	enum bpf_tc_attach_point points[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = points[i]);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIORITY);
		int err = bpf_tc_detach(&hook, &opts);
		/* The interface may be gone with its pod: nothing left to detach. */
		if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
			return fail(err, "detaching from interface %u", ifindex);
	}
	if (bpf_map_delete_elem(dp->endpoints_fd, &ifindex) && errno != ENOENT)
		return fail(-errno, "forgetting interface %u", ifindex);
	if (delete_policy)
		return drop_endpoint_maps(dp, endpoint_id);
	return 0;
}

int weir_endpoint_reset_maps(struct weir_datapath *dp, uint32_t endpoint_id)
{
	uint32_t ifindex, next;
	void *prev = NULL;
	struct weir_endpoint recorded;
	uint32_t gone[64];
	uint32_t ngone = 0;
	char name[IF_NAMESIZE];
	/*
	 * An interface that still exists and is recorded with this id uses the maps: resetting them
	 * under it is a bug. A record of an interface that is gone (a pod removed while no agent ran)
	 * is forgotten with the maps.
	 */
	while (bpf_map_get_next_key(dp->endpoints_fd, prev, &next) == 0) {
		ifindex = next;
		prev = &ifindex;
		if (bpf_map_lookup_elem(dp->endpoints_fd, &ifindex, &recorded) || recorded.endpoint_id != endpoint_id)
			continue;
		if (if_indextoname(ifindex, name))
			return fail(-EBUSY, "endpoint %u is still recorded for interface %s (%u)", endpoint_id, name,
				    ifindex);
		if (ngone < 64)
			gone[ngone++] = ifindex;
	}
	for (uint32_t i = 0; i < ngone; i++)
		bpf_map_delete_elem(dp->endpoints_fd, &gone[i]);
	return drop_endpoint_maps(dp, endpoint_id);
}

/* ---- map writes ------------------------------------------------------------------------------ */

static int upsert_batched(int fd, const void *keys, size_t key_size, const void *values, size_t value_size,
			  uint32_t n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	for (uint32_t done = 0; done < n;) {
		uint32_t count = n - done < BATCH ? n - done : BATCH;
		if (bpf_map_update_batch(fd, (const uint8_t *)keys + done * key_size,
					 (const uint8_t *)values + done * value_size, &count, &opts)) {
			int err = -errno;
			if (err != -EINVAL && err != -ENOTSUP && err != -524 /* ENOTSUPP: LPM tries */)
				return fail(err, "writing %s entries %u..%u", what, done, done + count);
			/* Maps without batch support: one entry at a time. */
			for (uint32_t i = done; i < n; i++)
				if (bpf_map_update_elem(fd, (const uint8_t *)keys + i * key_size,
							(const uint8_t *)values + i * value_size, BPF_ANY))
					return fail(-errno, "writing %s entry %u", what, i);
			return n;
		}
		done += count;
	}
	return n;
}

static int delete_each(int fd, const void *keys, size_t key_size, uint32_t n, const char *what)
{
	int deleted = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (bpf_map_delete_elem(fd, (const uint8_t *)keys + i * key_size) == 0)
			deleted++;
		else if (errno != ENOENT)
			return fail(-errno, "deleting %s entry %u", what, i);
	}
	return deleted;
}

int weir_policy_upsert(struct weir_datapath *dp, uint32_t endpoint_id, const struct weir_policy_key *keys,
		       const struct weir_policy_entry *entries, uint32_t n)
{
	int fd = policy_map_fd(dp, endpoint_id, 1);
	if (fd < 0)
		return fd;
	return upsert_batched(fd, keys, sizeof(*keys), entries, sizeof(*entries), n, "policy");
}

int weir_policy_delete(struct weir_datapath *dp, uint32_t endpoint_id, const struct weir_policy_key *keys,
		       uint32_t n)
{
	int fd = policy_map_fd(dp, endpoint_id, 0);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	return delete_each(fd, keys, sizeof(*keys), n, "policy");
}

int weir_policy_dump(struct weir_datapath *dp, uint32_t endpoint_id, struct weir_policy_key *keys,
		     struct weir_policy_entry *entries, uint32_t max)
{
	int fd = policy_map_fd(dp, endpoint_id, 0);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	struct weir_policy_key key, next;
	void *prev = NULL;
	uint32_t n = 0;
	while (n < max && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &entries[n]) == 0)
			keys[n++] = key;
	}
	return n;
}

int weir_policy_usage(struct weir_datapath *dp, uint32_t endpoint_id, uint32_t *entries, uint32_t *capacity)
{
	int fd = policy_map_fd(dp, endpoint_id, 0);
	if (fd < 0)
		return fd;
	if (capacity) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return fail(-errno, "reading the policy map of endpoint %u", endpoint_id);
		*capacity = info.max_entries;
	}
	if (entries) {
		struct weir_policy_key key, next;
		uint32_t count = 0;
		void *prev = NULL;
		while (bpf_map_get_next_key(fd, prev, &next) == 0) {
			count++;
			key = next;
			prev = &key;
		}
		*entries = count;
	}
	return 0;
}

/*
 * Moves the ipcache's generation on, after a write: tracked connections look their peer's
 * identity up again at their next packet. The agent is the only writer.
 */
static int ipcache_changed(struct weir_datapath *dp, int result)
{
	uint32_t zero = 0, generation = 0;
	if (bpf_map_lookup_elem(dp->generation_fd, &zero, &generation))
		return fail(-errno, "reading the ipcache generation");
	generation++;
	if (bpf_map_update_elem(dp->generation_fd, &zero, &generation, BPF_ANY))
		return fail(-errno, "moving the ipcache generation on");
	return result;
}

int weir_ipcache_upsert(struct weir_datapath *dp, const struct weir_ipcache_key *keys,
			const struct weir_ipcache_value *values, uint32_t n)
{
	int written = upsert_batched(dp->ipcache_fd, keys, sizeof(*keys), values, sizeof(*values), n, "ipcache");
	/* Even a write that failed halfway may have changed entries. */
	int moved = ipcache_changed(dp, written);
	return written < 0 ? written : moved;
}

int weir_ipcache_delete(struct weir_datapath *dp, const struct weir_ipcache_key *keys, uint32_t n)
{
	int deleted = delete_each(dp->ipcache_fd, keys, sizeof(*keys), n, "ipcache");
	int moved = ipcache_changed(dp, deleted);
	return deleted < 0 ? deleted : moved;
}

/* ---- events ------------------------------------------------------------------------------------ */

#define RINGBUF_BUSY_BIT (1U << 31)
#define RINGBUF_DISCARD_BIT (1U << 30)
#define RINGBUF_HDR_SZ 8

static int drain_ready(struct weir_datapath *dp, uint8_t *buf, uint32_t buf_len, uint32_t max_records,
		       uint32_t *records)
{
	uint64_t cons = __atomic_load_n((uint64_t *)dp->ring_consumer, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n((uint64_t *)dp->ring_producer, __ATOMIC_ACQUIRE);
	uint32_t written = 0;
	while (cons < prod && *records < max_records) {
		uint32_t *hdr = (uint32_t *)(dp->ring_data + (cons & dp->ring_mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & RINGBUF_BUSY_BIT)
			break; /* still being written: later records wait for it, in order */
		uint32_t size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
		uint64_t step = (size + RINGBUF_HDR_SZ + 7) & ~7ULL;
		if (!(len & RINGBUF_DISCARD_BIT)) {
			uint32_t need = sizeof(struct weir_record_header) + ((size + 7) & ~7U);
			if (written + need > buf_len)
				break; /* stays in the ring for the next call */
			struct weir_record_header out = { .length = size };
			memcpy(buf + written, &out, sizeof(out));
			memcpy(buf + written + sizeof(out), (uint8_t *)hdr + RINGBUF_HDR_SZ, size);
			written += need;
			(*records)++;
		}
		cons += step;
	}
	__atomic_store_n((uint64_t *)dp->ring_consumer, cons, __ATOMIC_RELEASE);
	return written;
}

int weir_events_drain(struct weir_datapath *dp, uint8_t *buf, uint32_t buf_len, uint32_t max_records,
		      int timeout_ms)
{
	uint32_t records = 0;
	int written = drain_ready(dp, buf, buf_len, max_records, &records);
	if (records > 0 || timeout_ms == 0)
		return written;
	struct epoll_event ev;
	int ready = epoll_wait(dp->epoll_fd, &ev, 1, timeout_ms);
	if (ready < 0)
		return errno == EINTR ? 0 : fail(-errno, "waiting for events");
	return drain_ready(dp, buf, buf_len, max_records, &records);
}

/* ---- counters ------------------------------------------------------------------------------------ */

int weir_counters_read(struct weir_datapath *dp, struct weir_counter *out, uint32_t max)
{
	struct weir_metrics_value *per_cpu = calloc(dp->ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return fail(-ENOMEM, "allocating counters");
	struct weir_metrics_key key, next;
	void *prev = NULL;
	uint32_t n = 0;
	while (n < max && bpf_map_get_next_key(dp->metrics_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(dp->metrics_fd, &key, per_cpu))
			continue; /* deleted meanwhile */
		struct weir_counter c = { .key = key };
		for (int cpu = 0; cpu < dp->ncpus; cpu++) {
			c.value.packets += per_cpu[cpu].packets;
			c.value.bytes += per_cpu[cpu].bytes;
		}
		out[n++] = c;
	}
	free(per_cpu);
	return n;
}

int64_t weir_health_read(struct weir_datapath *dp, uint32_t slot)
{
	uint64_t *per_cpu = calloc(dp->ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return fail(-ENOMEM, "allocating counters");
	int64_t sum = 0;
	if (bpf_map_lookup_elem(dp->health_fd, &slot, per_cpu)) {
		free(per_cpu);
		return fail(-errno, "reading health slot %u", slot);
	}
	for (int cpu = 0; cpu < dp->ncpus; cpu++)
		sum += per_cpu[cpu];
	free(per_cpu);
	return sum;
}

/* Calls fn on each endpoint's conntrack map; stops at the first error. Returns the sum of fn's results. */
static int each_ct_map(struct weir_datapath *dp, int (*fn)(struct weir_datapath *, int, void *), void *arg)
{
	uint32_t id, next;
	void *prev = NULL;
	int total = 0;
	while (bpf_map_get_next_key(dp->ct_fd, prev, &next) == 0) {
		id = next;
		prev = &id;
		int fd = ct_map_fd(dp, id, 0);
		if (fd == -ENOENT)
			continue; /* removed meanwhile */
		if (fd < 0)
			return fd;
		int n = fn(dp, fd, arg);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

static int flush_one(struct weir_datapath *dp, int fd, void *arg)
{
	struct weir_ct_key key;
	int flushed = 0;
	/* Deleting the first key each time: a walk would lose its place as entries go. */
	while (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		if (bpf_map_delete_elem(fd, &key) == 0)
			flushed++;
		else if (errno != ENOENT)
			return fail(-errno, "flushing conntrack");
	}
	return flushed;
}

int weir_ct_flush(struct weir_datapath *dp)
{
	return each_ct_map(dp, flush_one, NULL);
}

#define GC_BATCH 4096

struct gc_run {
	uint64_t now_ns;
	struct weir_ct_key keys[GC_BATCH];
	struct weir_ct_entry values[GC_BATCH];
	struct weir_ct_key expired[GC_BATCH];
	uint64_t scanned;
};

static int gc_one(struct weir_datapath *dp, int fd, void *arg)
{
	struct gc_run *run = arg;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct weir_ct_key batch_key;
	void *in = NULL;
	int deleted = 0;
	for (;;) {
		uint32_t count = GC_BATCH;
		int err = bpf_map_lookup_batch(fd, in, &batch_key, run->keys, run->values, &count, &opts);
		if (err && errno != ENOENT)
			return fail(-errno, "reading conntrack for garbage collection");
		uint32_t n = 0;
		for (uint32_t i = 0; i < count; i++)
			if (weir_ct_expired(&run->keys[i], &run->values[i], run->now_ns))
				run->expired[n++] = run->keys[i];
		run->scanned += count;
		if (n > 0) {
			uint32_t gone = n;
			if (bpf_map_delete_batch(fd, run->expired, &gone, &opts) == 0) {
				deleted += gone;
			} else {
				/*
				 * An entry deleted meanwhile (the datapath expires them too) stops a batch after
				 * the gone it did delete: the rest one by one.
				 */
				deleted += gone;
				for (uint32_t i = gone; i < n; i++)
					if (bpf_map_delete_elem(fd, &run->expired[i]) == 0)
						deleted++;
			}
		}
		if (err) /* ENOENT: that was the last batch */
			return deleted;
		in = &batch_key;
	}
}

/* A count is a sweep at a moment before every entry: nothing is deleted, every entry is read. */
int weir_ct_count(struct weir_datapath *dp)
{
	struct gc_run *run = malloc(sizeof(*run));
	if (!run)
		return fail(-ENOMEM, "allocating counting buffers");
	run->now_ns = 1;
	run->scanned = 0;
	int deleted = each_ct_map(dp, gc_one, run);
	int count = deleted < 0 ? deleted : (int)run->scanned;
	free(run);
	return count;
}

int weir_ct_gc(struct weir_datapath *dp, uint64_t now_ns, uint64_t *scanned)
{
	struct gc_run *run = malloc(sizeof(*run));
	if (!run)
		return fail(-ENOMEM, "allocating garbage collection buffers");
	if (!now_ns) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_ns = (uint64_t)ts.tv_sec * WEIR_NSEC_PER_SEC + ts.tv_nsec;
	}
	run->now_ns = now_ns;
	run->scanned = 0;
	int deleted = each_ct_map(dp, gc_one, run);
	if (scanned)
		*scanned = run->scanned;
	free(run);
	return deleted;
}

int weir_resolvers_set(struct weir_datapath *dp, const struct weir_addr_key *keys, uint32_t n)
{
	if (n > WEIR_MAX_RESOLVERS)
		return fail(-E2BIG, "%u resolvers: at most %d", n, WEIR_MAX_RESOLVERS);
	uint32_t value = 0;
	for (uint32_t i = 0; i < n; i++)
		if (bpf_map_update_elem(dp->resolvers_fd, &keys[i], &value, BPF_ANY))
			return fail(-errno, "recording resolver %u", i);
	/* Then forget the ones no longer listed (collected first: deleting loses a walk's place). */
	struct weir_addr_key stale[WEIR_MAX_RESOLVERS], key, next;
	uint32_t nstale = 0;
	void *prev = NULL;
	while (nstale < WEIR_MAX_RESOLVERS && bpf_map_get_next_key(dp->resolvers_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		int listed = 0;
		for (uint32_t i = 0; i < n && !listed; i++)
			listed = memcmp(&keys[i], &key, sizeof(key)) == 0;
		if (!listed)
			stale[nstale++] = key;
	}
	for (uint32_t i = 0; i < nstale; i++)
		bpf_map_delete_elem(dp->resolvers_fd, &stale[i]);
	return n;
}

/* ---- test runs ------------------------------------------------------------------------------------ */

int weir_test_run(struct weir_datapath *dp, int program, const void *packet, uint32_t len, uint32_t ifindex,
		  uint32_t repeat, uint32_t *duration_ns)
{
	struct __sk_buff ctx = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int err = bpf_prog_test_run_opts(program == 0 ? dp->prog_from : dp->prog_to, &opts);
	if (err)
		return fail(-errno, "BPF_PROG_RUN");
	if (duration_ns)
		*duration_ns = opts.duration;
	return (int)opts.retval;
}
