package dev.weir.api.flows;

import java.time.Instant;
import java.util.List;

/**
 * One flow as the relay's REST API shows it. observationPoint is where the datapath saw it, as
 * Hubble names it (from-endpoint: leaving the source pod; to-endpoint: arriving at the
 * destination pod): a connection between two pods of Weir's is seen at both, once each.
 */
public record FlowView(String uuid, Instant time, String node, String verdict, String dropReason, String type, String source, String sourceIp, int sourcePort, String destination, String destinationIp, int destinationPort, String protocol, boolean reply, List<String> policies, String dnsQuery, String summary, String observationPoint, String trafficDirection, long sourceIdentity, long destinationIdentity) {
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
        observationPoint = observationPoint == null ? "" : observationPoint;
        trafficDirection = trafficDirection == null ? "" : trafficDirection;
    }
}
