package dev.weir.api.flows;

import java.time.Instant;
import java.util.List;

/** One flow as the relay's REST API shows it. */
public record FlowView(String uuid, Instant time, String node, String verdict, String dropReason, String type, String source, String sourceIp, int sourcePort, String destination, String destinationIp, int destinationPort, String protocol, boolean reply, List<String> policies, String dnsQuery, String summary) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public FlowView {
        uuid = uuid == null ? "" : uuid;
        node = node == null ? "" : node;
        verdict = verdict == null ? "" : verdict;
        dropReason = dropReason == null ? "" : dropReason;
        type = type == null ? "" : type;
        source = source == null ? "" : source;
        sourceIp = sourceIp == null ? "" : sourceIp;
        destination = destination == null ? "" : destination;
        destinationIp = destinationIp == null ? "" : destinationIp;
        protocol = protocol == null ? "" : protocol;
        policies = policies == null ? List.of() : List.copyOf(policies);
        dnsQuery = dnsQuery == null ? "" : dnsQuery;
        summary = summary == null ? "" : summary;
    }
}
