package dev.weir.api.policy;

/** One endpoint a policy selects: whether its node enforces the policy's revision, and how far behind it is. */
public record EndpointStatus(String node, int endpointId, String pod, long stateRevision, boolean enforced, long ackedRevision, String error, long behindMillis) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public EndpointStatus {
        node = node == null ? "" : node;
        pod = pod == null ? "" : pod;
        error = error == null ? "" : error;
    }
}
