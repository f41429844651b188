package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.DropReason;
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
        return of(DnsFlowFields.of(flow));
    }

    static Optional<DnsEvent> of(DnsFlowFields flow) {
        // A time no clock gives (before 1970, after 9999) is no event: windows and insights are
        // made of times, and one such record must not stop the analytics.
        if (!com.google.protobuf.util.Timestamps.isValid(flow.timeSeconds, flow.timeNanos) || flow.timeSeconds < 0) {
            return Optional.empty();
        }
        if (flow.verdict == Verdict.DROPPED_VALUE) {
            return dropped(flow);
        }
        if (!flow.hasDns || !"client".equals(flow.observationSource)) {
            return Optional.empty();
        }
        boolean response = flow.isResponse;
        // The client is the source of a query and the destination of a response.
        DnsFlowFields.Side client = response ? flow.destination : flow.source;
        String clientIp = response ? flow.ipDestination : flow.ipSource;
        String serverIp = response ? flow.ipSource : flow.ipDestination;
        DnsEvent.Builder event = base(flow, client, clientIp)
                .setServerIp(serverIp)
                .setName(flow.query.toLowerCase(java.util.Locale.ROOT))
                .setQtype(flow.firstQtype == null ? "" : flow.firstQtype)
                .setId(flow.dnsId)
                .setIsResponse(response)
                .setRcode(flow.rcode)
                .setTruncated(flow.truncated)
                .setOverTcp(flow.overTcp)
                .setClientPort(clientPort(flow, response));
        if (flow.hasLatency) {
            event.setLatencyUs(flow.latencySeconds * 1_000_000L + flow.latencyNanos / 1_000);
        }
        return Optional.of(event.build());
    }

    private static Optional<DnsEvent> dropped(DnsFlowFields flow) {
        if (flow.destinationPort() != DNS_PORT) {
            return Optional.empty();
        }
        DropReason reason = DropReason.forNumber(flow.dropReason);
        DnsEvent.Builder event = base(flow, flow.source, flow.ipSource)
                .setServerIp(flow.ipDestination)
                .setDropped(true)
                .setDropReason(reason == null ? DropReason.UNRECOGNIZED.name() : reason.name())
                .setOverTcp(flow.overTcpTransport())
                .setClientPort(clientPort(flow, false));
        if (flow.hasDns) {
            event.setName(flow.query.toLowerCase(java.util.Locale.ROOT))
                    .setQtype(flow.firstQtype == null ? "" : flow.firstQtype);
        }
        event.addAllPolicies(flow.egressDeniedBy).addAllPolicies(flow.ingressDeniedBy);
        return Optional.of(event.build());
    }

    private static DnsEvent.Builder base(DnsFlowFields flow, DnsFlowFields.Side client, String clientIp) {
        return DnsEvent.newBuilder()
                .setTimeMs(flow.timeSeconds * 1000 + flow.timeNanos / 1_000_000)
                .setNodeName(flow.nodeName)
                .setNamespace(client.namespace)
                .setPodName(client.podName)
                .setWorkload(client.workload())
                .setClientIp(clientIp);
    }

    private static int clientPort(DnsFlowFields flow, boolean response) {
        // The client sends the query from its port and gets the response on it.
        return Math.max(0, response ? flow.destinationPort() : flow.sourcePort());
    }
}
