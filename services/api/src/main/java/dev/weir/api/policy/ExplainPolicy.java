package dev.weir.api.policy;

import java.util.List;

/**
 * A policy that selects the explained pod in one direction: how many of its rules in that
 * direction were considered (allow and deny), and those that match the connection, as fields
 * ("spec.egress[1]", "spec.ingressDeny[0]"); none matching is the reason an isolated pod drops.
 */
public record ExplainPolicy(String policy, int rules, List<String> matched) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ExplainPolicy {
        policy = policy == null ? "" : policy;
        matched = matched == null ? List.of() : List.copyOf(matched);
    }
}
