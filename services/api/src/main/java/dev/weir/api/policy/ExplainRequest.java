package dev.weir.api.policy;

/**
 * POST /api/v1/explain: a connection to judge (pods as namespace/name, or IP addresses), on a port
 * given by number or by the name the destination pod gives it.
 */
public record ExplainRequest(String source, String destination, String port, String protocol) {
}
