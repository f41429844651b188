package dev.weir.api.flows;

import java.time.Instant;
import java.util.List;

/** One flow as the relay's REST API shows it. */
public record FlowView(String uuid, Instant time, String node, String verdict, String dropReason, String type, String source, String sourceIp, int sourcePort, String destination, String destinationIp, int destinationPort, String protocol, boolean reply, List<String> policies, String dnsQuery, String summary) {
}
