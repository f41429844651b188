package dev.weir.agent.datapath;

import java.nio.ByteBuffer;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * libweir's C API (agent-native/include/weir.h), bound by jnr-ffi. Structs cross as direct,
 * native-order byte buffers laid out by {@link MapLayout}; each call moves many entries or
 * records. Negative results are negated errno values; {@link #weir_last_error()} explains them.
 */
public interface LibWeir {

    Pointer weir_open_path(String objectPath, String pinRoot, int policyEntries, int ctEntries, int ringBytes,
            @Out int[] error);

    void weir_close(Pointer datapath);

    int weir_adopted(Pointer datapath);

    int weir_endpoint_register(Pointer datapath, int ifindex, @In ByteBuffer endpoint);

    int weir_endpoint_attach(Pointer datapath, int ifindex, @In ByteBuffer endpoint);

    int weir_endpoint_lookup(Pointer datapath, int ifindex, @Out ByteBuffer endpoint);

    int weir_endpoint_attached(Pointer datapath, int ifindex);

    int weir_endpoint_list(Pointer datapath, @Out int[] ifindexes, int max);

    int weir_endpoint_update(Pointer datapath, int ifindex, @In ByteBuffer endpoint);

    int weir_endpoint_detach(Pointer datapath, int ifindex, int endpointId, int deletePolicy);

    int weir_endpoint_reset_maps(Pointer datapath, int endpointId);

    int weir_policy_upsert(Pointer datapath, int endpointId, @In ByteBuffer keys, @In ByteBuffer entries, int n);

    int weir_policy_delete(Pointer datapath, int endpointId, @In ByteBuffer keys, int n);

    int weir_policy_dump(Pointer datapath, int endpointId, @Out ByteBuffer keys, @Out ByteBuffer entries, int max);

    int weir_policy_usage(Pointer datapath, int endpointId, @Out int[] entries, @Out int[] capacity);

    int weir_ipcache_upsert(Pointer datapath, @In ByteBuffer keys, @In ByteBuffer values, int n);

    int weir_ipcache_delete(Pointer datapath, @In ByteBuffer keys, int n);

    int weir_events_drain(Pointer datapath, @Out ByteBuffer buffer, int bufferLength, int maxRecords, int timeoutMs);

    int weir_counters_read(Pointer datapath, @Out ByteBuffer out, int max);

    long weir_health_read(Pointer datapath, int slot);

    int weir_ct_count(Pointer datapath);

    int weir_ct_flush(Pointer datapath);

    int weir_ct_gc(Pointer datapath, long nowNs, @Out long[] scanned);

    int weir_resolvers_set(Pointer datapath, @In ByteBuffer keys, int n);

    int weir_test_run(Pointer datapath, int program, @In ByteBuffer packet, int length, int ifindex, int repeat,
            @Out int[] durationNs);

    String weir_last_error();
}
