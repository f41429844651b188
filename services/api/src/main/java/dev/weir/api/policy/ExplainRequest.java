package dev.weir.api.policy;

/** POST /api/v1/explain: a connection to judge (pods as namespace/name, or IP addresses). */
public record ExplainRequest(String source, String destination, int port, String protocol) {
}
