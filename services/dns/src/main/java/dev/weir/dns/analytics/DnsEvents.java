package dev.weir.dns.analytics;

import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.Verdict;
import java.util.Optional;

/**
 * Which flows are DNS events for the analytics, reduced to a {@link DnsEvent} keyed by client.
 *
 * <p>A node sees a DNS packet up to twice (the client's veth and the server's); only the client's
 * view counts, so each query is counted once, by the node of the pod that asked. A DNS packet the
 * datapath dropped carries no parsed payload; it counts as dropped DNS of its sender when it was
 * bound for port 53.
 */
public final class DnsEvents {

    static final int DNS_PORT = 53;

    private DnsEvents() {
    }

    /** The client's key: "namespace/pod", or the client's address for a client that is no known pod. */
    public static String clientKey(DnsEvent event) {
        return event.getNamespace().isEmpty() ? event.getClientIp() : event.getNamespace() + "/" + event.getPodName();
    }

    public static Optional<DnsEvent> of(Flow flow) {
        // A time no clock gives (before 1970, after 9999) is no event: windows and insights are
        // made of times, and one such record must not stop the analytics.
        if (!com.google.protobuf.util.Timestamps.isValid(flow.getTime()) || flow.getTime().getSeconds() < 0) {
            return Optional.empty();
        }
        if (flow.getVerdict() == Verdict.DROPPED) {
            return dropped(flow);
        }
        if (!flow.hasDns() || !"client".equals(flow.getDns().getObservationSource())) {
            return Optional.empty();
        }
        var dns = flow.getDns();
        boolean response = dns.getIsResponse();
        // The client is the source of a query and the destination of a response.
        var client = response ? flow.getDestination() : flow.getSource();
        String clientIp = response ? flow.getIp().getDestination() : flow.getIp().getSource();
        String serverIp = response ? flow.getIp().getSource() : flow.getIp().getDestination();
        DnsEvent.Builder event = base(flow, client, clientIp)
                .setServerIp(serverIp)
                .setName(dns.getQuery().toLowerCase(java.util.Locale.ROOT))
                .setQtype(dns.getQtypesCount() == 0 ? "" : dns.getQtypes(0))
                .setId(dns.getId())
                .setIsResponse(response)
                .setRcode(dns.getRcode())
                .setTruncated(dns.getTruncated())
                .setOverTcp(dns.getOverTcp())
                .setClientPort(clientPort(flow, response));
        if (dns.hasLatency()) {
            event.setLatencyUs(dns.getLatency().getSeconds() * 1_000_000L + dns.getLatency().getNanos() / 1_000);
        }
        return Optional.of(event.build());
    }

    private static Optional<DnsEvent> dropped(Flow flow) {
        if (FlowFilters.destinationPort(flow) != DNS_PORT) {
            return Optional.empty();
        }
        DnsEvent.Builder event = base(flow, flow.getSource(), flow.getIp().getSource())
                .setServerIp(flow.getIp().getDestination())
                .setDropped(true)
                .setDropReason(flow.getDropReason().name())
                .setOverTcp(flow.getL4().hasTcp())
                .setClientPort(clientPort(flow, false));
        if (flow.hasDns()) {
            event.setName(flow.getDns().getQuery().toLowerCase(java.util.Locale.ROOT))
                    .setQtype(flow.getDns().getQtypesCount() == 0 ? "" : flow.getDns().getQtypes(0));
        }
        for (PolicyRef ref : flow.getEgressDeniedByList()) {
            event.addPolicies(FlowFilters.policyName(ref));
        }
        for (PolicyRef ref : flow.getIngressDeniedByList()) {
            event.addPolicies(FlowFilters.policyName(ref));
        }
        return Optional.of(event.build());
    }

    private static DnsEvent.Builder base(Flow flow, dev.weir.proto.flow.v1.Endpoint client, String clientIp) {
        return DnsEvent.newBuilder()
                .setTimeMs(flow.getTime().getSeconds() * 1000 + flow.getTime().getNanos() / 1_000_000)
                .setNodeName(flow.getNodeName())
                .setNamespace(client.getNamespace())
                .setPodName(client.getPodName())
                .setWorkload(client.getWorkloadsCount() == 0 ? "" : client.getWorkloads(0).getName())
                .setClientIp(clientIp);
    }

    private static int clientPort(Flow flow, boolean response) {
        // The client sends the query from its port and gets the response on it.
        return Math.max(0, response ? FlowFilters.destinationPort(flow) : FlowFilters.sourcePort(flow));
    }
}
