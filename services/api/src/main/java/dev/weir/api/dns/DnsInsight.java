package dev.weir.api.dns;

import java.time.Instant;
import java.util.List;

/** A DNS insight: what is wrong for which pod, the evidence, and the likely fix. */
public record DnsInsight(String id, String kind, String namespace, String pod, String workload, String node, String summary, String suggestedFix, List<String> evidence, List<String> policies, double value, Instant started, Instant updated, boolean resolved, Instant resolvedAt) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public DnsInsight {
        id = id == null ? "" : id;
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        pod = pod == null ? "" : pod;
        workload = workload == null ? "" : workload;
        node = node == null ? "" : node;
        summary = summary == null ? "" : summary;
        suggestedFix = suggestedFix == null ? "" : suggestedFix;
        evidence = evidence == null ? List.of() : List.copyOf(evidence);
        policies = policies == null ? List.of() : List.copyOf(policies);
    }
}
