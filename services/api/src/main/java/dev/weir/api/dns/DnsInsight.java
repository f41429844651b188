package dev.weir.api.dns;

import java.time.Instant;
import java.util.List;

/** A DNS insight: what is wrong for which pod, the evidence, and the likely fix. */
public record DnsInsight(String id, String kind, String namespace, String pod, String workload, String node, String summary, String suggestedFix, List<String> evidence, List<String> policies, double value, Instant started, Instant updated, boolean resolved, Instant resolvedAt) {
}
