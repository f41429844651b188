package dev.weir.api.policy;

/** One direction of an explanation: whether the pod is isolated, and which rule or policy decided. */
public record ExplainSide(String pod, boolean isolated, boolean allowed, String match, String policy, boolean deny) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ExplainSide {
        pod = pod == null ? "" : pod;
        match = match == null ? "" : match;
        policy = policy == null ? "" : policy;
    }
}
