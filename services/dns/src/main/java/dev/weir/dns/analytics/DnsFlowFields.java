package dev.weir.dns.analytics;

import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a flow the DNS analytics read, and nothing else: what {@link DnsEvents} makes a
 * DNS event of. Filled from a decoded {@link Flow}, or straight from a flow's bytes by
 * {@link DnsFlowReader} without building the flow's messages.
 */
final class DnsFlowFields {

    /** One end of the flow: its pod, and the first of its workloads. */
    static final class Side {
        String namespace = "";
        String podName = "";
        /** The first workload's name; null when the endpoint has none. */
        String firstWorkload;

        String workload() {
            return firstWorkload == null ? "" : firstWorkload;
        }
    }

    long timeSeconds;
    int timeNanos;
    String nodeName = "";
    int verdict;
    int dropReason;
    String ipSource = "";
    String ipDestination = "";
    /** The Layer4 oneof's case number (0: none); ports only for TCP, UDP and SCTP. */
    int l4Case;
    int sourcePort;
    int destinationPort;
    final Side source = new Side();
    final Side destination = new Side();
    boolean hasDns;
    String query = "";
    /** The first query type; null when there is none. */
    String firstQtype;
    int rcode;
    int dnsId;
    boolean isResponse;
    boolean hasLatency;
    long latencySeconds;
    int latencyNanos;
    boolean truncated;
    boolean overTcp;
    String observationSource = "";
    final List<String> egressDeniedBy = new ArrayList<>(0);
    final List<String> ingressDeniedBy = new ArrayList<>(0);

    boolean overTcpTransport() {
        return l4Case == Layer4.TCP_FIELD_NUMBER;
    }

    /** The flow's source port, -1 for a protocol without ports (as {@link FlowFilters#sourcePort}). */
    int sourcePort() {
        return hasPorts() ? sourcePort : -1;
    }

    int destinationPort() {
        return hasPorts() ? destinationPort : -1;
    }

    private boolean hasPorts() {
        return l4Case == Layer4.TCP_FIELD_NUMBER || l4Case == Layer4.UDP_FIELD_NUMBER || l4Case == Layer4.SCTP_FIELD_NUMBER;
    }

    /** The fields of a decoded flow. */
    static DnsFlowFields of(Flow flow) {
        DnsFlowFields f = new DnsFlowFields();
        f.timeSeconds = flow.getTime().getSeconds();
        f.timeNanos = flow.getTime().getNanos();
        f.nodeName = flow.getNodeName();
        f.verdict = flow.getVerdictValue();
        f.dropReason = flow.getDropReasonValue();
        f.ipSource = flow.getIp().getSource();
        f.ipDestination = flow.getIp().getDestination();
        f.l4Case = flow.getL4().getProtocolCase().getNumber();
        f.sourcePort = Math.max(0, FlowFilters.sourcePort(flow));
        f.destinationPort = Math.max(0, FlowFilters.destinationPort(flow));
        side(flow.getSource(), f.source);
        side(flow.getDestination(), f.destination);
        f.hasDns = flow.hasDns();
        var dns = flow.getDns();
        f.query = dns.getQuery();
        f.firstQtype = dns.getQtypesCount() == 0 ? null : dns.getQtypes(0);
        f.rcode = dns.getRcode();
        f.dnsId = dns.getId();
        f.isResponse = dns.getIsResponse();
        f.hasLatency = dns.hasLatency();
        f.latencySeconds = dns.getLatency().getSeconds();
        f.latencyNanos = dns.getLatency().getNanos();
        f.truncated = dns.getTruncated();
        f.overTcp = dns.getOverTcp();
        f.observationSource = dns.getObservationSource();
        for (PolicyRef ref : flow.getEgressDeniedByList()) {
            f.egressDeniedBy.add(FlowFilters.policyName(ref));
        }
        for (PolicyRef ref : flow.getIngressDeniedByList()) {
            f.ingressDeniedBy.add(FlowFilters.policyName(ref));
        }
        return f;
    }

    private static void side(Endpoint endpoint, Side side) {
        side.namespace = endpoint.getNamespace();
        side.podName = endpoint.getPodName();
        side.firstWorkload = endpoint.getWorkloadsCount() == 0 ? null : endpoint.getWorkloads(0).getName();
    }
}
