package dev.weir.agent.datapath;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java mirror of bpf/include/weir_maps.h: sizes and field offsets of every struct that crosses
 * into libweir or comes out of the ring buffer. Must match the C header; {@code MapLayoutBtfTest}
 * compares every struct here with the compiled object's BTF, field by field.
 */
public final class MapLayout {

    private MapLayout() {
    }

    /** A struct's size and its fields' byte offsets, in declaration order. */
    public record Struct(String name, int size, Map<String, Integer> offsets) {
        public int offset(String field) {
            Integer offset = offsets.get(field);
            if (offset == null) {
                throw new IllegalArgumentException(name + " has no field " + field);
            }
            return offset;
        }
    }

    private static Struct struct(String name, int size, Object... fieldsAndOffsets) {
        Map<String, Integer> offsets = new LinkedHashMap<>();
        for (int i = 0; i < fieldsAndOffsets.length; i += 2) {
            offsets.put((String) fieldsAndOffsets[i], (Integer) fieldsAndOffsets[i + 1]);
        }
        return new Struct(name, size, offsets);
    }

    public static final Struct ENDPOINT = struct("weir_endpoint", 40,
            "endpoint_id", 0, "identity", 4, "flags", 8, "policy_revision", 12, "ipv4", 16, "ipv6", 20, "state_revision", 36);

    public static final Struct POLICY_KEY = struct("weir_policy_key", 12,
            "prefixlen", 0, "identity", 4, "direction", 8, "protocol", 9, "dport", 10);

    public static final Struct POLICY_ENTRY = struct("weir_policy_entry", 8,
            "cookie", 0, "flags", 4, "prefixlen", 5, "pad", 6);

    public static final Struct ADDR_KEY = struct("weir_addr_key", 20,
            "family", 0, "pad", 1, "addr", 4);

    public static final Struct CT_KEY = struct("weir_ct_key", 44,
            "saddr", 0, "daddr", 16, "sport", 32, "dport", 34, "protocol", 36, "family", 37, "direction", 38,
            "pad", 39, "endpoint_id", 40);

    public static final Struct CT_ENTRY = struct("weir_ct_entry", 56,
            "created_ns", 0, "last_seen_ns", 8, "packets", 16, "bytes", 24, "cookie", 32, "remote_identity", 36,
            "policy_revision", 40, "ipcache_generation", 44, "match_type", 48, "flags", 49, "pad", 50);

    public static final Struct IPCACHE_KEY = struct("weir_ipcache_key", 24,
            "prefixlen", 0, "family", 4, "pad", 5, "addr", 8);

    public static final Struct IPCACHE_VALUE = struct("weir_ipcache_value", 8,
            "identity", 0, "flags", 4);

    public static final Struct METRICS_KEY = struct("weir_metrics_key", 4,
            "verdict", 0, "drop_reason", 1, "direction", 2, "pad", 3);

    public static final Struct METRICS_VALUE = struct("weir_metrics_value", 16,
            "packets", 0, "bytes", 8);

    public static final Struct EVENT_HEADER = struct("weir_event_header", 8,
            "version", 0, "type", 1, "length", 2, "cpu", 4);

    public static final Struct FLOW_EVENT = struct("weir_flow_event", 96,
            "header", 0, "timestamp_ns", 8, "ifindex", 16, "endpoint_id", 20, "src_identity", 24,
            "dst_identity", 28, "saddr", 32, "daddr", 48, "sport", 64, "dport", 66, "family", 68,
            "protocol", 69, "verdict", 70, "drop_reason", 71, "direction", 72, "match_type", 73,
            "tcp_flags", 74, "is_reply", 75, "trace_point", 76, "pad", 77, "policy_cookie", 80,
            "packet_length", 84, "payload_length", 88, "payload_offset", 90, "pad2", 92);

    /** libweir's own structs (agent-native/include/weir.h), not in the BPF object. */
    public static final int RECORD_HEADER_SIZE = 8;
    public static final int COUNTER_SIZE = 24;

    public static final List<Struct> BPF_STRUCTS = List.of(ENDPOINT, POLICY_KEY, POLICY_ENTRY, ADDR_KEY, CT_KEY,
            CT_ENTRY, IPCACHE_KEY, IPCACHE_VALUE, METRICS_KEY, METRICS_VALUE, EVENT_HEADER, FLOW_EVENT);

    // Constants of weir_maps.h used by the agent. Each one is checked against the enum constant of
    // the same name in the object's BTF (MapLayoutBtfTest): a change on one side fails the build.
    public static final int EVENT_VERSION = 1;
    public static final int EVENT_NEW_CONNECTION = 1;
    public static final int EVENT_DROP = 2;
    public static final int EVENT_CONNECTION_CLOSE = 3;
    public static final int EVENT_DNS = 4;
    public static final int VERDICT_FORWARDED = 1;
    public static final int VERDICT_DROPPED = 2;
    public static final int VERDICT_AUDIT = 4;
    public static final int DROP_INVALID_SOURCE_IP = 132;
    public static final int DROP_POLICY_DENIED = 133;
    public static final int DROP_AWAITING_POLICY = 165;
    public static final int DROP_FRAG_NOT_FOUND = 175;
    public static final int DROP_POLICY_DENY = 181;
    public static final int FAMILY_IPV4 = 4;
    public static final int FAMILY_IPV6 = 6;
    public static final int IPCACHE_PREFIX_BITS = 32;
    public static final int DIR_INGRESS = 1;
    public static final int DIR_EGRESS = 2;
    public static final int EP_INGRESS_ISOLATED = 1;
    public static final int EP_EGRESS_ISOLATED = 1 << 1;
    public static final int EP_AUDIT = 1 << 2;
    public static final int EP_AWAITING_POLICY = 1 << 3;
    public static final int EP_HAS_IPV4 = 1 << 4;
    public static final int EP_HAS_IPV6 = 1 << 5;
    public static final int POLICY_DENY = 1;
    public static final int POLICY_STATIC_BITS = 40;
    public static final int POLICY_PROTO_BITS = 48;
    public static final int POLICY_FULL_BITS = 64;
    public static final int HEALTH_EVENTS_LOST = 0;
    public static final int HEALTH_CT_INSERT_FAILED = 1;
    public static final int HEALTH_CT_EXPIRED = 2;
    public static final int HEALTH_CT_REJUDGED = 3;
    public static final int HEALTH_CT_REVOKED = 4;
    public static final int HEALTH_ICMP_RELATED = 5;
    public static final int POLICY_ENTRIES_DEFAULT = 16384;
    public static final int MAX_RESOLVERS = 16;

    /** The enum constants above by their C names, for the check against the object's BTF. */
    public static final Map<String, Integer> ENUM_CONSTANTS = Map.ofEntries(
            Map.entry("WEIR_EVENT_NEW_CONNECTION", EVENT_NEW_CONNECTION), Map.entry("WEIR_EVENT_DROP", EVENT_DROP),
            Map.entry("WEIR_EVENT_CONNECTION_CLOSE", EVENT_CONNECTION_CLOSE), Map.entry("WEIR_EVENT_DNS", EVENT_DNS),
            Map.entry("WEIR_VERDICT_FORWARDED", VERDICT_FORWARDED), Map.entry("WEIR_VERDICT_DROPPED", VERDICT_DROPPED),
            Map.entry("WEIR_VERDICT_AUDIT", VERDICT_AUDIT),
            Map.entry("WEIR_DROP_INVALID_SOURCE_IP", DROP_INVALID_SOURCE_IP),
            Map.entry("WEIR_DROP_POLICY_DENIED", DROP_POLICY_DENIED),
            Map.entry("WEIR_DROP_AWAITING_POLICY", DROP_AWAITING_POLICY),
            Map.entry("WEIR_DROP_FRAG_NOT_FOUND", DROP_FRAG_NOT_FOUND),
            Map.entry("WEIR_DROP_POLICY_DENY", DROP_POLICY_DENY),
            Map.entry("WEIR_DIR_INGRESS", DIR_INGRESS), Map.entry("WEIR_DIR_EGRESS", DIR_EGRESS),
            Map.entry("WEIR_EP_INGRESS_ISOLATED", EP_INGRESS_ISOLATED),
            Map.entry("WEIR_EP_EGRESS_ISOLATED", EP_EGRESS_ISOLATED), Map.entry("WEIR_EP_AUDIT", EP_AUDIT),
            Map.entry("WEIR_EP_AWAITING_POLICY", EP_AWAITING_POLICY), Map.entry("WEIR_EP_HAS_IPV4", EP_HAS_IPV4),
            Map.entry("WEIR_EP_HAS_IPV6", EP_HAS_IPV6), Map.entry("WEIR_POLICY_DENY", POLICY_DENY),
            Map.entry("WEIR_HEALTH_EVENTS_LOST", HEALTH_EVENTS_LOST),
            Map.entry("WEIR_HEALTH_CT_INSERT_FAILED", HEALTH_CT_INSERT_FAILED),
            Map.entry("WEIR_HEALTH_CT_EXPIRED", HEALTH_CT_EXPIRED),
            Map.entry("WEIR_HEALTH_CT_REJUDGED", HEALTH_CT_REJUDGED),
            Map.entry("WEIR_HEALTH_CT_REVOKED", HEALTH_CT_REVOKED),
            Map.entry("WEIR_HEALTH_ICMP_RELATED", HEALTH_ICMP_RELATED));
}
