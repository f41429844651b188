package dev.weir.agent.datapath;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/**
 * The node's datapath, through libweir: endpoints, policy and ipcache entries, events, counters.
 * Map writes are serialised (libweir keeps a per-handle cache of policy map descriptors); draining
 * events only touches the ring buffer and runs on the reader's thread without a lock.
 */
public final class Datapath implements AutoCloseable {

    private static volatile LibWeir lib;

    private final LibWeir weir;
    private final Pointer handle;
    private final boolean adopted;

    private Datapath(LibWeir weir, Pointer handle) {
        this.weir = weir;
        this.handle = handle;
        this.adopted = weir.weir_adopted(handle) == 1;
    }

    /**
     * Loads the datapath, adopting maps pinned under pinRoot by an earlier run.
     *
     * @param policyEntries size of each endpoint's policy map (0: 16,384)
     */
    public static Datapath open(Path object, Path pinRoot, int policyEntries) {
        LibWeir weir = library();
        int[] error = new int[1];
        Pointer handle = weir.weir_open_path(object.toString(), pinRoot.toString(), policyEntries, 0, 0, error);
        if (handle == null) {
            throw new DatapathException(-error[0], "loading " + object + ": " + weir.weir_last_error());
        }
        return new Datapath(weir, handle);
    }

    public static Datapath open(Path pinRoot) {
        return open(NativeArtifacts.datapathObject(), pinRoot, 0);
    }

    static LibWeir library() {
        LibWeir loaded = lib;
        if (loaded == null) {
            synchronized (Datapath.class) {
                if (lib == null) {
                    lib = LibraryLoader.create(LibWeir.class).failImmediately()
                            .load(NativeArtifacts.library().toString());
                }
                loaded = lib;
            }
        }
        return loaded;
    }

    /** True when the maps were pinned by an earlier run and adopted with their contents. */
    public boolean adopted() {
        return adopted;
    }

    private int check(int result, String what) {
        if (result < 0) {
            throw new DatapathException(-result, what + ": " + weir.weir_last_error());
        }
        return result;
    }

    private static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocateDirect(Math.max(bytes, 8)).order(ByteOrder.nativeOrder());
    }

    private static ByteBuffer endpoint(EndpointEntry entry) {
        ByteBuffer b = buffer(MapLayout.ENDPOINT.size());
        b.putInt(MapLayout.ENDPOINT.offset("endpoint_id"), entry.endpointId());
        b.putInt(MapLayout.ENDPOINT.offset("identity"), entry.identity());
        b.putInt(MapLayout.ENDPOINT.offset("flags"), entry.datapathFlags());
        b.putInt(MapLayout.ENDPOINT.offset("policy_revision"), entry.policyRevision());
        b.putInt(MapLayout.ENDPOINT.offset("state_revision"), entry.stateRevision());
        if (entry.ipv4() != null) {
            b.put(MapLayout.ENDPOINT.offset("ipv4"), entry.ipv4().getAddress());
        }
        if (entry.ipv6() != null) {
            b.put(MapLayout.ENDPOINT.offset("ipv6"), entry.ipv6().getAddress());
        }
        return b;
    }

    /** Records the endpoint and attaches the programs to its host-side interface. */
    public synchronized void attach(int ifindex, EndpointEntry entry) {
        check(weir.weir_endpoint_attach(handle, ifindex, endpoint(entry)), "attaching endpoint " + entry.endpointId());
    }

    /** What the pinned endpoints map records for an interface. */
    public synchronized java.util.Optional<EndpointEntry> lookupEndpoint(int ifindex) {
        ByteBuffer out = buffer(MapLayout.ENDPOINT.size());
        int result = weir.weir_endpoint_lookup(handle, ifindex, out);
        if (result == -2 /* ENOENT */) {
            return java.util.Optional.empty();
        }
        check(result, "looking up interface " + ifindex);
        int flags = out.getInt(MapLayout.ENDPOINT.offset("flags"));
        byte[] v4 = new byte[4];
        byte[] v6 = new byte[16];
        out.get(MapLayout.ENDPOINT.offset("ipv4"), v4);
        out.get(MapLayout.ENDPOINT.offset("ipv6"), v6);
        return java.util.Optional.of(new EndpointEntry(out.getInt(MapLayout.ENDPOINT.offset("endpoint_id")),
                out.getInt(MapLayout.ENDPOINT.offset("identity")), flags,
                out.getInt(MapLayout.ENDPOINT.offset("policy_revision")),
                out.getInt(MapLayout.ENDPOINT.offset("state_revision")),
                (flags & MapLayout.EP_HAS_IPV4) != 0 ? (java.net.Inet4Address) address(v4, MapLayout.FAMILY_IPV4) : null,
                (flags & MapLayout.EP_HAS_IPV6) != 0 ? (java.net.Inet6Address) address(v6, MapLayout.FAMILY_IPV6) : null));
    }

    /** Whether this load's programs run on both tc hooks of the interface. */
    public synchronized boolean attached(int ifindex) {
        return check(weir.weir_endpoint_attached(handle, ifindex), "querying interface " + ifindex) == 1;
    }

    /** The interfaces the pinned endpoints map records, by this run or an earlier one. */
    public synchronized int[] recordedInterfaces() {
        int[] ifindexes = new int[4096];
        int n = check(weir.weir_endpoint_list(handle, ifindexes, ifindexes.length), "listing endpoints");
        if (n > ifindexes.length) {
            ifindexes = new int[n + 64];
            n = Math.min(n, check(weir.weir_endpoint_list(handle, ifindexes, ifindexes.length), "listing endpoints"));
        }
        return java.util.Arrays.copyOf(ifindexes, n);
    }

    /** Records an endpoint for an interface without attaching programs (tests and benchmarks). */
    public synchronized void register(int ifindex, EndpointEntry entry) {
        check(weir.weir_endpoint_register(handle, ifindex, endpoint(entry)), "registering endpoint " + entry.endpointId());
    }

    /**
     * Removes whatever policy and conntrack maps an earlier run left for an endpoint id, so a new
     * endpoint given the id starts with none of its predecessor's entries.
     */
    public synchronized void resetMaps(int endpointId) {
        check(weir.weir_endpoint_reset_maps(handle, endpointId), "resetting the maps of endpoint " + endpointId);
    }

    /**
     * Runs the ingress (toEndpoint) or egress program on a frame with BPF_PROG_RUN, repeat times:
     * the datapath decides and emits as for a real packet. For tests and load generation.
     *
     * @return the tc verdict (0 pass, 2 drop)
     */
    public int testRun(boolean toEndpoint, ByteBuffer frame, int length, int ifindex, int repeat) {
        int[] duration = new int[1];
        return check(weir.weir_test_run(handle, toEndpoint ? 1 : 0, frame, length, ifindex, repeat, duration),
                "running the datapath on a test frame");
    }

    /** Changes an attached endpoint's identity, flags (isolation, audit) or policy revision. */
    public synchronized void update(int ifindex, EndpointEntry entry) {
        check(weir.weir_endpoint_update(handle, ifindex, endpoint(entry)), "updating endpoint " + entry.endpointId());
    }

    public synchronized void detach(int ifindex, int endpointId, boolean deletePolicy) {
        check(weir.weir_endpoint_detach(handle, ifindex, endpointId, deletePolicy ? 1 : 0),
                "detaching endpoint " + endpointId);
    }

    public synchronized int upsertPolicy(int endpointId, Map<PolicyKey, PolicyEntry> entries) {
        if (entries.isEmpty()) {
            return 0;
        }
        ByteBuffer keys = buffer(entries.size() * MapLayout.POLICY_KEY.size());
        ByteBuffer values = buffer(entries.size() * MapLayout.POLICY_ENTRY.size());
        int i = 0;
        for (Map.Entry<PolicyKey, PolicyEntry> e : entries.entrySet()) {
            writeKey(keys, i * MapLayout.POLICY_KEY.size(), e.getKey());
            int v = i * MapLayout.POLICY_ENTRY.size();
            values.putInt(v + MapLayout.POLICY_ENTRY.offset("cookie"), e.getValue().cookie());
            values.put(v + MapLayout.POLICY_ENTRY.offset("flags"), (byte) (e.getValue().deny() ? MapLayout.POLICY_DENY : 0));
            values.put(v + MapLayout.POLICY_ENTRY.offset("prefixlen"), (byte) e.getKey().prefixLength());
            i++;
        }
        return check(weir.weir_policy_upsert(handle, endpointId, keys, values, entries.size()),
                "writing the policy of endpoint " + endpointId);
    }

    public synchronized int deletePolicy(int endpointId, Collection<PolicyKey> keys) {
        if (keys.isEmpty()) {
            return 0;
        }
        ByteBuffer buf = buffer(keys.size() * MapLayout.POLICY_KEY.size());
        int i = 0;
        for (PolicyKey key : keys) {
            writeKey(buf, i++ * MapLayout.POLICY_KEY.size(), key);
        }
        return check(weir.weir_policy_delete(handle, endpointId, buf, keys.size()),
                "deleting policy entries of endpoint " + endpointId);
    }

    /** The endpoint's policy map as it is in the kernel now. */
    public synchronized Map<PolicyKey, PolicyEntry> dumpPolicy(int endpointId, int max) {
        ByteBuffer keys = buffer(max * MapLayout.POLICY_KEY.size());
        ByteBuffer values = buffer(max * MapLayout.POLICY_ENTRY.size());
        int n = check(weir.weir_policy_dump(handle, endpointId, keys, values, max),
                "reading the policy of endpoint " + endpointId);
        Map<PolicyKey, PolicyEntry> result = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int k = i * MapLayout.POLICY_KEY.size();
            int v = i * MapLayout.POLICY_ENTRY.size();
            PolicyKey key = PolicyKey.fromPrefix(networkInt(keys, k + MapLayout.POLICY_KEY.offset("identity")),
                    Byte.toUnsignedInt(keys.get(k + MapLayout.POLICY_KEY.offset("direction"))),
                    Byte.toUnsignedInt(keys.get(k + MapLayout.POLICY_KEY.offset("protocol"))),
                    networkShort(keys, k + MapLayout.POLICY_KEY.offset("dport")),
                    keys.getInt(k + MapLayout.POLICY_KEY.offset("prefixlen")));
            boolean deny = (values.get(v + MapLayout.POLICY_ENTRY.offset("flags")) & MapLayout.POLICY_DENY) != 0;
            result.put(key, new PolicyEntry(values.getInt(v + MapLayout.POLICY_ENTRY.offset("cookie")), deny));
        }
        return result;
    }

    /** Entries and capacity of the endpoint's policy map, for map-pressure metrics. */
    public synchronized int[] policyUsage(int endpointId) {
        int[] entries = new int[1];
        int[] capacity = new int[1];
        check(weir.weir_policy_usage(handle, endpointId, entries, capacity), "reading policy usage");
        return new int[] {entries[0], capacity[0]};
    }

    private static void writeKey(ByteBuffer buf, int at, PolicyKey key) {
        buf.putInt(at + MapLayout.POLICY_KEY.offset("prefixlen"), key.prefixLength());
        // Identity and port in network byte order, as the datapath's trie holds them (weir_maps.h).
        putNetworkInt(buf, at + MapLayout.POLICY_KEY.offset("identity"), key.identity());
        buf.put(at + MapLayout.POLICY_KEY.offset("direction"), (byte) key.direction());
        buf.put(at + MapLayout.POLICY_KEY.offset("protocol"), (byte) key.protocol());
        buf.put(at + MapLayout.POLICY_KEY.offset("dport"), (byte) (key.port() >>> 8));
        buf.put(at + MapLayout.POLICY_KEY.offset("dport") + 1, (byte) key.port());
    }

    private static void putNetworkInt(ByteBuffer buf, int at, int value) {
        for (int i = 0; i < 4; i++) {
            buf.put(at + i, (byte) (value >>> (24 - 8 * i)));
        }
    }

    private static int networkInt(ByteBuffer buf, int at) {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            value = value << 8 | Byte.toUnsignedInt(buf.get(at + i));
        }
        return value;
    }

    private static int networkShort(ByteBuffer buf, int at) {
        return Byte.toUnsignedInt(buf.get(at)) << 8 | Byte.toUnsignedInt(buf.get(at + 1));
    }

    public synchronized int upsertIpcache(Map<Prefix, Integer> entries) {
        if (entries.isEmpty()) {
            return 0;
        }
        ByteBuffer keys = buffer(entries.size() * MapLayout.IPCACHE_KEY.size());
        ByteBuffer values = buffer(entries.size() * MapLayout.IPCACHE_VALUE.size());
        int i = 0;
        for (Map.Entry<Prefix, Integer> e : entries.entrySet()) {
            writePrefix(keys, i * MapLayout.IPCACHE_KEY.size(), e.getKey());
            values.putInt(i * MapLayout.IPCACHE_VALUE.size() + MapLayout.IPCACHE_VALUE.offset("identity"), e.getValue());
            i++;
        }
        return check(weir.weir_ipcache_upsert(handle, keys, values, entries.size()), "writing the ipcache");
    }

    public synchronized int deleteIpcache(Collection<Prefix> prefixes) {
        if (prefixes.isEmpty()) {
            return 0;
        }
        ByteBuffer keys = buffer(prefixes.size() * MapLayout.IPCACHE_KEY.size());
        int i = 0;
        for (Prefix p : prefixes) {
            writePrefix(keys, i++ * MapLayout.IPCACHE_KEY.size(), p);
        }
        return check(weir.weir_ipcache_delete(handle, keys, prefixes.size()), "deleting ipcache entries");
    }

    private static void writePrefix(ByteBuffer buf, int at, Prefix prefix) {
        buf.putInt(at + MapLayout.IPCACHE_KEY.offset("prefixlen"), MapLayout.IPCACHE_PREFIX_BITS + prefix.length());
        buf.put(at + MapLayout.IPCACHE_KEY.offset("family"),
                (byte) (prefix.ipv4() ? MapLayout.FAMILY_IPV4 : MapLayout.FAMILY_IPV6));
        byte[] address = prefix.address().getAddress();
        for (int b = 0; b < address.length; b++) {
            buf.put(at + MapLayout.IPCACHE_KEY.offset("addr") + b, address[b]);
        }
    }

    /**
     * Drains up to maxRecords events into the direct buffer (records framed as libweir's
     * weir_record_header + payload, 8-byte aligned), waiting up to timeoutMs when none is ready.
     *
     * @return bytes written
     */
    public int drain(ByteBuffer direct, int maxRecords, int timeoutMs) {
        return check(weir.weir_events_drain(handle, direct, direct.capacity(), maxRecords, timeoutMs), "draining events");
    }

    /** A datapath counter, summed over CPUs. */
    public record Counter(int verdict, int dropReason, int direction, long packets, long bytes) {
    }

    public List<Counter> counters() {
        ByteBuffer out = buffer(256 * MapLayout.COUNTER_SIZE);
        int n = check(weir.weir_counters_read(handle, out, 256), "reading counters");
        List<Counter> counters = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int at = i * MapLayout.COUNTER_SIZE;
            counters.add(new Counter(Byte.toUnsignedInt(out.get(at)), Byte.toUnsignedInt(out.get(at + 1)),
                    Byte.toUnsignedInt(out.get(at + 2)), out.getLong(at + 8), out.getLong(at + 16)));
        }
        return counters;
    }

    /** Events the datapath could not emit because the ring buffer was full. */
    public long eventsLost() {
        return health(MapLayout.HEALTH_EVENTS_LOST);
    }

    /** A health counter of the datapath (MapLayout.HEALTH_*), summed over CPUs. */
    public long health(int slot) {
        long value = weir.weir_health_read(handle, slot);
        check((int) Math.min(0, value), "reading health slot " + slot);
        return value;
    }

    /** What one garbage collection of conntrack did. */
    public record ConntrackSweep(int deleted, long scanned) {
    }

    /** Deletes every conntrack entry past its lifetime now. */
    public ConntrackSweep collectConntrack() {
        long[] scanned = new long[1];
        int deleted = check(weir.weir_ct_gc(handle, 0, scanned), "collecting conntrack");
        return new ConntrackSweep(deleted, scanned[0]);
    }

    /**
     * Makes these addresses the cluster's resolvers: the only peers an endpoint not told its
     * policy yet may reach (on port 53).
     */
    public synchronized void resolvers(List<InetAddress> addresses) {
        if (addresses.size() > MapLayout.MAX_RESOLVERS) {
            throw new IllegalArgumentException(addresses.size() + " resolvers: at most " + MapLayout.MAX_RESOLVERS);
        }
        ByteBuffer keys = buffer(addresses.size() * MapLayout.ADDR_KEY.size());
        for (int i = 0; i < addresses.size(); i++) {
            int at = i * MapLayout.ADDR_KEY.size();
            byte[] raw = addresses.get(i).getAddress();
            keys.put(at + MapLayout.ADDR_KEY.offset("family"),
                    (byte) (raw.length == 4 ? MapLayout.FAMILY_IPV4 : MapLayout.FAMILY_IPV6));
            keys.put(at + MapLayout.ADDR_KEY.offset("addr"), raw);
        }
        check(weir.weir_resolvers_set(handle, keys, addresses.size()), "setting the resolvers");
    }

    /** Forgets every tracked connection; returns how many there were. */
    public synchronized int flushConntrack() {
        return check(weir.weir_ct_flush(handle), "flushing conntrack");
    }

    public int conntrackEntries() {
        return check(weir.weir_ct_count(handle), "counting conntrack entries");
    }

    static InetAddress address(byte[] sixteen, int family) {
        try {
            if (family == MapLayout.FAMILY_IPV4) {
                return InetAddress.getByAddress(new byte[] {sixteen[0], sixteen[1], sixteen[2], sixteen[3]});
            }
            return InetAddress.getByAddress(sixteen);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public synchronized void close() {
        weir.weir_close(handle);
    }
}
