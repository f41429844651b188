package dev.weir.common.hubble;

import com.google.protobuf.BoolValue;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.hubble.flow.CiliumEventType;
import dev.weir.proto.hubble.flow.DNS;
import dev.weir.proto.hubble.flow.DropReason;
import dev.weir.proto.hubble.flow.Ethernet;
import dev.weir.proto.hubble.flow.FlowType;
import dev.weir.proto.hubble.flow.ICMPv4;
import dev.weir.proto.hubble.flow.ICMPv6;
import dev.weir.proto.hubble.flow.IP;
import dev.weir.proto.hubble.flow.IPVersion;
import dev.weir.proto.hubble.flow.L7FlowType;
import dev.weir.proto.hubble.flow.Layer4;
import dev.weir.proto.hubble.flow.Layer7;
import dev.weir.proto.hubble.flow.LostEvent;
import dev.weir.proto.hubble.flow.LostEventSource;
import dev.weir.proto.hubble.flow.NetworkInterface;
import dev.weir.proto.hubble.flow.Policy;
import dev.weir.proto.hubble.flow.SCTP;
import dev.weir.proto.hubble.flow.TCP;
import dev.weir.proto.hubble.flow.TCPFlags;
import dev.weir.proto.hubble.flow.TraceObservationPoint;
import dev.weir.proto.hubble.flow.TrafficDirection;
import dev.weir.proto.hubble.flow.UDP;
import dev.weir.proto.hubble.flow.Verdict;
import dev.weir.proto.hubble.flow.Workload;
import java.util.List;

/**
 * Weir's flows as Hubble's: the same facts under Hubble's names and numbers, so that a Hubble
 * client prints and filters them as it would Cilium's. Where Hubble encodes something Weir knows
 * differently (the event type and observation point as the datapath's numbers, the policy match
 * as a number), the encoding is Hubble's; what Weir does not see (services, HTTP) stays unset.
 */
public final class HubbleFlows {

    /** Cilium's monitor message types, which Hubble puts in event_type.type. */
    static final int MESSAGE_DROP = 1;
    static final int MESSAGE_TRACE = 4;
    static final int MESSAGE_POLICY_VERDICT = 5;
    static final int MESSAGE_ACCESS_LOG = 129;
    /** The trace observation points' indexes in event_type.sub_type (to-endpoint, from-endpoint). */
    static final int TRACE_TO_ENDPOINT = 0;
    static final int TRACE_FROM_ENDPOINT = 5;

    private HubbleFlows() {
    }

    public static dev.weir.proto.hubble.flow.Flow of(Flow flow) {
        var hubble = dev.weir.proto.hubble.flow.Flow.newBuilder().setTime(flow.getTime()).setUuid(flow.getUuid())
                .setVerdict(verdict(flow.getVerdict())).setNodeName(flow.getNodeName())
                .setSource(endpoint(flow.getSource())).setDestination(endpoint(flow.getDestination()))
                .addAllSourceNames(flow.getSourceNamesList()).addAllDestinationNames(flow.getDestinationNamesList())
                .setTrafficDirection(direction(flow.getTrafficDirection()))
                .setPolicyMatchType(policyMatch(flow.getPolicyMatchType()))
                .setTraceObservationPoint(observationPoint(flow.getTracePoint()))
                .setIsReply(BoolValue.of(flow.getIsReply())).setReply(flow.getIsReply())
                .setSummary(flow.getSummary())
                .setType(flow.getEventType() == dev.weir.proto.flow.v1.EventType.DNS ? FlowType.L7 : FlowType.L3_L4);
        int dropReason = ciliumReason(flow.getDropReason());
        if (dropReason != 0) {
            hubble.setDropReason(dropReason);
            DropReason known = DropReason.forNumber(dropReason);
            hubble.setDropReasonDesc(known == null ? DropReason.DROP_REASON_UNKNOWN : known);
        }
        hubble.setEventType(eventType(flow));
        if (flow.hasEthernet()) {
            hubble.setEthernet(Ethernet.newBuilder().setSource(flow.getEthernet().getSource())
                    .setDestination(flow.getEthernet().getDestination()));
        }
        if (flow.hasIp()) {
            hubble.setIP(IP.newBuilder().setSource(flow.getIp().getSource()).setDestination(flow.getIp().getDestination())
                    .setIpVersion(switch (flow.getIp().getIpVersion()) {
                        case IPV4 -> IPVersion.IPv4;
                        case IPV6 -> IPVersion.IPv6;
                        default -> IPVersion.IP_NOT_USED;
                    }));
        }
        if (flow.hasL4()) {
            hubble.setL4(layer4(flow.getL4()));
        }
        if (!flow.getInterfaceName().isEmpty()) {
            hubble.setInterface(NetworkInterface.newBuilder().setName(flow.getInterfaceName()));
        }
        if (flow.hasDns()) {
            hubble.setL7(layer7(flow.getDns()));
        }
        flow.getEgressAllowedByList().forEach(p -> hubble.addEgressAllowedBy(policy(p)));
        flow.getIngressAllowedByList().forEach(p -> hubble.addIngressAllowedBy(policy(p)));
        flow.getEgressDeniedByList().forEach(p -> hubble.addEgressDeniedBy(policy(p)));
        flow.getIngressDeniedByList().forEach(p -> hubble.addIngressDeniedBy(policy(p)));
        return hubble.build();
    }

    /** Weir's lost-event sources under Hubble's: the datapath's ring, the relay's queue, the observer's ring. */
    public static LostEvent lost(dev.weir.proto.observer.v1.LostEvent lost) {
        LostEventSource source = switch (lost.getSource()) {
            case DATAPATH_RING_BUFFER -> LostEventSource.PERF_EVENT_RING_BUFFER;
            case OBSERVER_RING -> LostEventSource.HUBBLE_RING_BUFFER;
            default -> LostEventSource.OBSERVER_EVENTS_QUEUE;
        };
        return LostEvent.newBuilder().setSource(source).setNumEventsLost(lost.getNumEventsLost()).build();
    }

    /**
     * Weir's drop reason as the number Cilium's datapath gives the same reason: mostly the same
     * numbers, but for the two Weir numbers Cilium uses for something else.
     */
    static int ciliumReason(dev.weir.proto.flow.v1.DropReason reason) {
        return switch (reason) {
            case UNSUPPORTED_L4_PROTOCOL -> DropReason.UNKNOWN_L4_PROTOCOL_VALUE;
            case NO_POLICY_MAP -> DropReason.NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION_VALUE;
            case UNRECOGNIZED -> 0;
            default -> reason.getNumber();
        };
    }

    static Verdict verdict(dev.weir.proto.flow.v1.Verdict verdict) {
        Verdict same = Verdict.forNumber(verdict.getNumber()); // the same numbers by design
        return same == null ? Verdict.VERDICT_UNKNOWN : same;
    }

    static TrafficDirection direction(dev.weir.proto.flow.v1.TrafficDirection direction) {
        return switch (direction) {
            case INGRESS -> TrafficDirection.INGRESS;
            case EGRESS -> TrafficDirection.EGRESS;
            default -> TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
        };
    }

    static TraceObservationPoint observationPoint(dev.weir.proto.flow.v1.TracePoint point) {
        return switch (point) {
            case FROM_ENDPOINT -> TraceObservationPoint.FROM_ENDPOINT;
            case TO_ENDPOINT -> TraceObservationPoint.TO_ENDPOINT;
            default -> TraceObservationPoint.UNKNOWN_POINT;
        };
    }

    /** Hubble's policy match numbers: 0 none, 1 L3 only, 2 L3 and L4, 3 L4 only, 4 all. */
    static int policyMatch(dev.weir.proto.flow.v1.PolicyMatchType match) {
        return switch (match) {
            case POLICY_MATCH_L3_ONLY -> 1;
            case POLICY_MATCH_L3_L4 -> 2;
            case POLICY_MATCH_L4_ONLY -> 3;
            case POLICY_MATCH_ALL -> 4;
            default -> 0;
        };
    }

    /**
     * The event as Cilium's monitor would have reported it: a drop with its reason, a trace at its
     * observation point, a policy verdict, or an L7 (DNS) record.
     */
    static CiliumEventType eventType(Flow flow) {
        return switch (flow.getEventType()) {
            case DROP -> CiliumEventType.newBuilder().setType(MESSAGE_DROP).setSubType(ciliumReason(flow.getDropReason())).build();
            case POLICY_VERDICT -> CiliumEventType.newBuilder().setType(MESSAGE_POLICY_VERDICT).build();
            case DNS -> CiliumEventType.newBuilder().setType(MESSAGE_ACCESS_LOG).build();
            default -> CiliumEventType.newBuilder().setType(MESSAGE_TRACE)
                    .setSubType(flow.getTracePoint() == dev.weir.proto.flow.v1.TracePoint.TO_ENDPOINT ? TRACE_TO_ENDPOINT
                            : TRACE_FROM_ENDPOINT).build();
        };
    }

    static dev.weir.proto.hubble.flow.Endpoint endpoint(Endpoint endpoint) {
        var hubble = dev.weir.proto.hubble.flow.Endpoint.newBuilder().setID(endpoint.getId())
                .setIdentity(endpoint.getIdentity()).setClusterName(endpoint.getClusterName())
                .setNamespace(endpoint.getNamespace()).setPodName(endpoint.getPodName()).addAllLabels(hubbleLabels(endpoint));
        endpoint.getWorkloadsList().forEach(w -> hubble.addWorkloads(Workload.newBuilder().setName(w.getName()).setKind(w.getKind())));
        return hubble.build();
    }

    /**
     * Labels as Hubble shows them, each with its source: a pod's labels (Weir writes them without
     * one) are Kubernetes labels, "k8s:app=cart", and a pod's namespace is one too, as Cilium adds it.
     */
    static List<String> hubbleLabels(Endpoint endpoint) {
        List<String> labels = new java.util.ArrayList<>(endpoint.getLabelsCount() + 1);
        for (String label : endpoint.getLabelsList()) {
            int colon = label.indexOf(':');
            int eq = label.indexOf('=');
            labels.add(colon >= 0 && (eq < 0 || colon < eq) ? label : "k8s:" + label);
        }
        String namespace = "k8s:io.kubernetes.pod.namespace=" + endpoint.getNamespace();
        if (!endpoint.getNamespace().isEmpty() && !labels.contains(namespace)) {
            labels.add(namespace);
        }
        java.util.Collections.sort(labels);
        return labels;
    }

    static Layer4 layer4(dev.weir.proto.flow.v1.Layer4 l4) {
        return switch (l4.getProtocolCase()) {
            case TCP -> {
                var f = l4.getTcp().getFlags();
                yield Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(l4.getTcp().getSourcePort())
                        .setDestinationPort(l4.getTcp().getDestinationPort())
                        .setFlags(TCPFlags.newBuilder().setFIN(f.getFin()).setSYN(f.getSyn()).setRST(f.getRst())
                                .setPSH(f.getPsh()).setACK(f.getAck()).setURG(f.getUrg()).setECE(f.getEce())
                                .setCWR(f.getCwr()).setNS(f.getNs()))).build();
            }
            case UDP -> Layer4.newBuilder().setUDP(UDP.newBuilder().setSourcePort(l4.getUdp().getSourcePort())
                    .setDestinationPort(l4.getUdp().getDestinationPort())).build();
            case SCTP -> Layer4.newBuilder().setSCTP(SCTP.newBuilder().setSourcePort(l4.getSctp().getSourcePort())
                    .setDestinationPort(l4.getSctp().getDestinationPort())).build();
            case ICMPV4 -> Layer4.newBuilder().setICMPv4(ICMPv4.newBuilder().setType(l4.getIcmpv4().getType())
                    .setCode(l4.getIcmpv4().getCode())).build();
            case ICMPV6 -> Layer4.newBuilder().setICMPv6(ICMPv6.newBuilder().setType(l4.getIcmpv6().getType())
                    .setCode(l4.getIcmpv6().getCode())).build();
            default -> Layer4.getDefaultInstance();
        };
    }

    static Layer7 layer7(Dns dns) {
        var record = DNS.newBuilder().setQuery(dns.getQuery()).addAllIps(dns.getIpsList()).setTtl(dns.getTtl())
                .addAllCnames(dns.getCnamesList()).setRcode(dns.getRcode()).addAllQtypes(dns.getQtypesList())
                .addAllRrtypes(dns.getRrtypesList()).setObservationSource(dns.getObservationSource());
        var l7 = Layer7.newBuilder().setType(dns.getIsResponse() ? L7FlowType.RESPONSE : L7FlowType.REQUEST).setDns(record);
        if (dns.hasLatency() && com.google.protobuf.util.Durations.isValid(dns.getLatency())
                && !com.google.protobuf.util.Durations.isNegative(dns.getLatency())) {
            l7.setLatencyNs(com.google.protobuf.util.Durations.toNanos(dns.getLatency()));
        }
        return l7.build();
    }

    static Policy policy(PolicyRef ref) {
        return Policy.newBuilder().setName(ref.getName()).setNamespace(ref.getNamespace()).setKind(ref.getKind())
                .setRevision(ref.getRevision()).build();
    }
}
