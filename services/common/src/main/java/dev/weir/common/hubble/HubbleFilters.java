package dev.weir.common.hubble;

import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.hubble.flow.EventTypeFilter;
import dev.weir.proto.hubble.flow.FlowFilter;
import java.util.ArrayList;
import java.util.List;

/**
 * Hubble's flow filters as Weir's, with Hubble's meanings: "pod" without a namespace is in
 * "default", a protocol "dns" is a DNS record, event types are Cilium's monitor numbers. A filter
 * on what Weir's flows never carry (services, HTTP, Kafka) matches nothing, as it would on a
 * Cilium node without them; a filter on what Weir carries but cannot select on yet is refused
 * with the field named, rather than answered wrongly.
 */
public final class HubbleFilters {

    /** A filter Weir cannot apply: INVALID_ARGUMENT for the client, naming the field. */
    public static final class Unsupported extends RuntimeException {
        Unsupported(String field) {
            super("flow filter field " + field + " is not supported by Weir");
        }
    }

    /** A uuid no flow has: the filter that matches nothing. */
    static final String NO_FLOW = "(no flow matches this filter)";

    private HubbleFilters() {
    }

    /** Whitelist filters: a filter Weir's flows can never match becomes one that matches nothing. */
    public static List<dev.weir.proto.observer.v1.FlowFilter> whitelist(List<FlowFilter> filters) {
        List<dev.weir.proto.observer.v1.FlowFilter> weir = new ArrayList<>();
        for (FlowFilter filter : filters) {
            var translated = translate(filter);
            weir.add(translated == null ? dev.weir.proto.observer.v1.FlowFilter.newBuilder().addUuid(NO_FLOW).build()
                    : translated);
        }
        return weir;
    }

    /** Blacklist filters: one that can never match excludes nothing and is left out. */
    public static List<dev.weir.proto.observer.v1.FlowFilter> blacklist(List<FlowFilter> filters) {
        List<dev.weir.proto.observer.v1.FlowFilter> weir = new ArrayList<>();
        for (FlowFilter filter : filters) {
            var translated = translate(filter);
            if (translated != null) {
                weir.add(translated);
            }
        }
        return weir;
    }

    /** The filter in Weir's terms, or null when no Weir flow can match it. */
    static dev.weir.proto.observer.v1.FlowFilter translate(FlowFilter f) {
        refuse(f.getSourceIpXlatedCount(), "source_ip_xlated");
        refuse(f.getDnsQueryCount(), "dns_query");
        refuse(f.getTcpFlagsCount(), "tcp_flags");
        refuse(f.getIpVersionCount(), "ip_version");
        refuse(f.getTraceIdCount(), "trace_id");
        refuse(f.getInterfaceCount(), "interface");
        refuse(f.getNodeLabelsCount(), "node_labels");
        if (f.hasExperimental() && f.getExperimental().getCelExpressionCount() > 0) {
            throw new Unsupported("experimental.cel_expression");
        }
        // Weir's flows have no service, HTTP or Kafka records: a filter that needs one matches nothing.
        if (f.getSourceServiceCount() + f.getDestinationServiceCount() + f.getHttpStatusCodeCount() + f.getHttpMethodCount()
                + f.getHttpPathCount() + f.getHttpUrlCount() + f.getHttpHeaderCount() > 0) {
            return null;
        }
        var weir = dev.weir.proto.observer.v1.FlowFilter.newBuilder().addAllUuid(f.getUuidList())
                .addAllSourceIp(f.getSourceIpList()).addAllDestinationIp(f.getDestinationIpList())
                .addAllSourceFqdn(f.getSourceFqdnList()).addAllDestinationFqdn(f.getDestinationFqdnList())
                .addAllSourceLabel(f.getSourceLabelList()).addAllDestinationLabel(f.getDestinationLabelList())
                .addAllSourceIdentity(f.getSourceIdentityList()).addAllDestinationIdentity(f.getDestinationIdentityList())
                .addAllSourcePort(f.getSourcePortList()).addAllDestinationPort(f.getDestinationPortList())
                .addAllReply(f.getReplyList()).addAllNodeName(f.getNodeNameList());
        for (String pod : f.getSourcePodList()) {
            weir.addSourcePod(pod(pod, "source_pod"));
        }
        for (String pod : f.getDestinationPodList()) {
            weir.addDestinationPod(pod(pod, "destination_pod"));
        }
        for (var workload : f.getSourceWorkloadList()) {
            weir.addSourceWorkload(workload(workload, "source_workload"));
        }
        for (var workload : f.getDestinationWorkloadList()) {
            weir.addDestinationWorkload(workload(workload, "destination_workload"));
        }
        for (var verdict : f.getVerdictList()) {
            Verdict same = Verdict.forNumber(verdict.getNumber());
            if (same != null) {
                weir.addVerdict(same);
            }
        }
        if (f.getVerdictCount() > 0 && weir.getVerdictCount() == 0) {
            return null;
        }
        for (var reason : f.getDropReasonDescList()) {
            DropReason known = DropReason.forNumber(reason.getNumber());
            if (known != null && known != DropReason.DROP_REASON_UNKNOWN) {
                weir.addDropReasonDesc(known); // a reason Weir's datapath never gives matches no flow
            }
        }
        if (f.getDropReasonDescCount() > 0 && weir.getDropReasonDescCount() == 0) {
            return null;
        }
        for (var direction : f.getTrafficDirectionList()) {
            switch (direction) {
                case INGRESS -> weir.addTrafficDirection(TrafficDirection.INGRESS);
                case EGRESS -> weir.addTrafficDirection(TrafficDirection.EGRESS);
                default -> weir.addTrafficDirection(TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN);
            }
        }
        boolean dnsByProtocol = false;
        for (String protocol : f.getProtocolList()) {
            String p = protocol.toLowerCase(java.util.Locale.ROOT);
            switch (p) {
                case "tcp", "udp", "sctp", "icmpv6" -> weir.addProtocol(p);
                case "icmp", "icmpv4" -> weir.addProtocol("icmp");
                case "dns" -> dnsByProtocol = true;
                case "http", "kafka" -> {
                    // no such records in Weir's flows
                }
                default -> throw new Unsupported("protocol " + protocol);
            }
        }
        if (dnsByProtocol) {
            if (weir.getProtocolCount() > 0) {
                throw new Unsupported("protocol dns together with an L4 protocol");
            }
            weir.addEventType(EventType.DNS);
        } else if (f.getProtocolCount() > 0 && weir.getProtocolCount() == 0) {
            return null;
        }
        for (EventTypeFilter type : f.getEventTypeList()) {
            if (type.getMatchSubType()) {
                throw new Unsupported("event_type.sub_type");
            }
            switch (type.getType()) {
                case HubbleFlows.MESSAGE_DROP -> weir.addEventType(EventType.DROP);
                case HubbleFlows.MESSAGE_TRACE -> weir.addEventType(EventType.NEW_CONNECTION)
                        .addEventType(EventType.CONNECTION_CLOSE);
                case HubbleFlows.MESSAGE_POLICY_VERDICT -> weir.addEventType(EventType.POLICY_VERDICT);
                case HubbleFlows.MESSAGE_ACCESS_LOG -> weir.addEventType(EventType.DNS);
                default -> {
                    // agent, debug, capture events: Weir's flows are none of these
                }
            }
        }
        if (f.getEventTypeCount() > 0 && weir.getEventTypeCount() == 0) {
            return null;
        }
        return weir.build();
    }

    /** Hubble's "namespace/pod-prefix"; a bare name is a pod of "default", as Hubble reads it. */
    static String pod(String selector, String field) {
        if (selector.startsWith("/")) {
            throw new Unsupported(field + " in every namespace (" + selector + ")");
        }
        return selector.contains("/") ? selector : "default/" + selector;
    }

    static String workload(dev.weir.proto.hubble.flow.Workload workload, String field) {
        if (!workload.getKind().isEmpty()) {
            throw new Unsupported(field + " by kind");
        }
        return workload.getName();
    }

    private static void refuse(int count, String field) {
        if (count > 0) {
            throw new Unsupported(field);
        }
    }
}
