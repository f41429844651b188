package dev.weir.api.policy;

/** POST /api/v1/explain: a connection to judge (pods as namespace/name, or IP addresses). */
public record ExplainRequest(String source, String destination, int port, String protocol) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ExplainRequest {
        source = source == null ? "" : source;
        destination = destination == null ? "" : destination;
        protocol = protocol == null ? "" : protocol;
    }
}
