package dev.weir.api.policy;

/** One direction of an explanation: whether the pod is isolated, and which rule or policy decided. */
public record ExplainSide(String pod, boolean isolated, boolean allowed, String match, String policy, boolean deny) {
}
