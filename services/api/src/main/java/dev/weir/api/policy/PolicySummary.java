package dev.weir.api.policy;

import java.time.Instant;

/** One entry of GET /api/v1/policies ("" as the namespace of a cluster-wide policy; "-" in paths). */
public record PolicySummary(String kind, String namespace, String name, long revision, Instant updated) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PolicySummary {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
    }
}
