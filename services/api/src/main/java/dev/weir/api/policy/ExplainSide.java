package dev.weir.api.policy;

import java.util.List;

/**
 * One direction of an explanation: whether the pod is isolated, which policy's entry decided
 * ({@code policy}, empty when none did), and every policy that selects the pod in this direction
 * with the rules of it that match the connection.
 */
public record ExplainSide(String pod, boolean isolated, boolean allowed, String match, String policy, boolean deny,
        List<ExplainPolicy> policies) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ExplainSide {
        pod = pod == null ? "" : pod;
        match = match == null ? "" : match;
        policy = policy == null ? "" : policy;
        policies = policies == null ? List.of() : List.copyOf(policies);
    }
}
