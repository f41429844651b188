package dev.weir.common.hubble;

import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.hubble.flow.EventTypeFilter;
import dev.weir.proto.hubble.flow.FlowFilter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Hubble's flow filters as Weir's, with Hubble's meanings: a pod without a namespace is in
 * "default" and "/pod" is in any; "icmp" is either ICMP; L4 and L7 protocols are alternatives
 * ("tcp" or "dns"); event types are Cilium's monitor numbers, with their sub-types (the trace's
 * observation point, the drop's reason). One Hubble filter may become several of Weir's, which a
 * list ORs as Hubble's does. A filter on what Weir's flows never carry (services, HTTP, Kafka)
 * matches nothing, as it would on a Cilium node without them; a filter on what Weir carries but
 * cannot select on yet, or on a field this contract does not know, is refused with the field
 * named rather than answered wrongly.
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

    private static final Set<EventType> TRACES = EnumSet.of(EventType.NEW_CONNECTION, EventType.CONNECTION_CLOSE,
            EventType.EVENT_TYPE_UNKNOWN);

    private HubbleFilters() {
    }

    /** Whitelist filters: a filter Weir's flows can never match becomes one that matches nothing. */
    public static List<dev.weir.proto.observer.v1.FlowFilter> whitelist(List<FlowFilter> filters) {
        List<dev.weir.proto.observer.v1.FlowFilter> weir = new ArrayList<>();
        for (FlowFilter filter : filters) {
            List<dev.weir.proto.observer.v1.FlowFilter> translated = translate(filter);
            if (translated.isEmpty()) {
                weir.add(dev.weir.proto.observer.v1.FlowFilter.newBuilder().addUuid(NO_FLOW).build());
            }
            weir.addAll(translated);
        }
        return weir;
    }

    /** Blacklist filters: one that can never match excludes nothing and is left out. */
    public static List<dev.weir.proto.observer.v1.FlowFilter> blacklist(List<FlowFilter> filters) {
        List<dev.weir.proto.observer.v1.FlowFilter> weir = new ArrayList<>();
        for (FlowFilter filter : filters) {
            weir.addAll(translate(filter));
        }
        return weir;
    }

    /** What one event-type entry selects: Weir's event types (null: any), and its sub-type if given. */
    private record EventChoice(Set<EventType> types, TracePoint point, List<DropReason> reasons) {
    }

    /** The filter in Weir's terms: alternatives (OR), none when no Weir flow can match it. */
    static List<dev.weir.proto.observer.v1.FlowFilter> translate(FlowFilter f) {
        if (!f.getUnknownFields().asMap().isEmpty()) {
            throw new Unsupported("number " + f.getUnknownFields().asMap().keySet());
        }
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
            return List.of();
        }
        var base = dev.weir.proto.observer.v1.FlowFilter.newBuilder().addAllUuid(f.getUuidList())
                .addAllSourceIp(f.getSourceIpList()).addAllDestinationIp(f.getDestinationIpList())
                .addAllSourceFqdn(f.getSourceFqdnList()).addAllDestinationFqdn(f.getDestinationFqdnList())
                .addAllSourceLabel(f.getSourceLabelList()).addAllDestinationLabel(f.getDestinationLabelList())
                .addAllSourceIdentity(f.getSourceIdentityList()).addAllDestinationIdentity(f.getDestinationIdentityList())
                .addAllSourcePort(f.getSourcePortList()).addAllDestinationPort(f.getDestinationPortList())
                .addAllReply(f.getReplyList()).addAllNodeName(f.getNodeNameList());
        for (String pod : f.getSourcePodList()) {
            base.addSourcePod(pod(pod, "source_pod"));
        }
        for (String pod : f.getDestinationPodList()) {
            base.addDestinationPod(pod(pod, "destination_pod"));
        }
        for (var workload : f.getSourceWorkloadList()) {
            base.addSourceWorkload(workload(workload, "source_workload"));
        }
        for (var workload : f.getDestinationWorkloadList()) {
            base.addDestinationWorkload(workload(workload, "destination_workload"));
        }
        for (var verdict : f.getVerdictList()) {
            Verdict same = Verdict.forNumber(verdict.getNumber()); // the same numbers by design
            if (same != null) {
                base.addVerdict(same);
            }
        }
        if (f.getVerdictCount() > 0 && base.getVerdictCount() == 0) {
            return List.of();
        }
        List<DropReason> reasons = new ArrayList<>();
        for (var reason : f.getDropReasonDescList()) {
            reasons.addAll(weirReasons(reason.getNumber()));
        }
        if (f.getDropReasonDescCount() > 0 && reasons.isEmpty()) {
            return List.of(); // reasons Weir's datapath never gives
        }
        for (var direction : f.getTrafficDirectionList()) {
            switch (direction) {
                case INGRESS -> base.addTrafficDirection(TrafficDirection.INGRESS);
                case EGRESS -> base.addTrafficDirection(TrafficDirection.EGRESS);
                default -> base.addTrafficDirection(TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN);
            }
        }

        // Protocols: L4 names select by the packet, "dns" by the record; Hubble ORs them.
        List<String> l4 = new ArrayList<>();
        boolean dns = false;
        for (String protocol : f.getProtocolList()) {
            switch (protocol.toLowerCase(java.util.Locale.ROOT)) {
                case "tcp" -> l4.add("tcp");
                case "udp" -> l4.add("udp");
                case "sctp" -> l4.add("sctp");
                case "icmp" -> {
                    l4.add("icmp");
                    l4.add("icmpv6");
                }
                case "icmpv4" -> l4.add("icmp");
                case "icmpv6" -> l4.add("icmpv6");
                case "dns" -> dns = true;
                case "http", "kafka" -> {
                    // no such records in Weir's flows
                }
                default -> throw new Unsupported("protocol " + protocol);
            }
        }

        List<EventChoice> events = new ArrayList<>();
        for (EventTypeFilter type : f.getEventTypeList()) {
            EventChoice choice = event(type);
            if (choice != null) {
                events.add(choice);
            }
        }
        if (f.getEventTypeCount() > 0 && events.isEmpty()) {
            return List.of();
        }
        if (events.isEmpty()) {
            events.add(new EventChoice(null, null, List.of()));
        }

        List<dev.weir.proto.observer.v1.FlowFilter> alternatives = new ArrayList<>();
        for (EventChoice event : events) {
            List<DropReason> dropReasons = intersect(reasons, event.reasons());
            if (dropReasons == null) {
                continue;
            }
            if (f.getProtocolCount() == 0) {
                add(alternatives, base, null, event.types(), event.point(), dropReasons);
                continue;
            }
            if (!l4.isEmpty()) {
                add(alternatives, base, l4, event.types(), event.point(), dropReasons);
            }
            if (dns && (event.types() == null || event.types().contains(EventType.DNS))) {
                add(alternatives, base, null, EnumSet.of(EventType.DNS), event.point(), dropReasons);
            }
        }
        return alternatives;
    }

    private static void add(List<dev.weir.proto.observer.v1.FlowFilter> alternatives,
            dev.weir.proto.observer.v1.FlowFilter.Builder base, List<String> protocols, Set<EventType> types,
            TracePoint point, List<DropReason> reasons) {
        var filter = base.clone();
        if (protocols != null) {
            filter.addAllProtocol(protocols);
        }
        if (types != null) {
            filter.addAllEventType(types);
        }
        if (point != null) {
            filter.addTracePoint(point);
        }
        filter.addAllDropReasonDesc(reasons);
        alternatives.add(filter.build());
    }

    /** Both lists' reasons (an empty list: any); null when they have none in common. */
    private static List<DropReason> intersect(List<DropReason> a, List<DropReason> b) {
        if (a.isEmpty()) {
            return b;
        }
        if (b.isEmpty()) {
            return a;
        }
        List<DropReason> both = new ArrayList<>(a);
        both.retainAll(b);
        return both.isEmpty() ? null : both;
    }

    /** One of Hubble's event-type entries in Weir's terms; null when no Weir flow is of that type. */
    private static EventChoice event(EventTypeFilter type) {
        return switch (type.getType()) {
            case 0 -> new EventChoice(null, null, List.of()); // any type, as Hubble reads 0
            case HubbleFlows.MESSAGE_DROP -> {
                if (!type.getMatchSubType()) {
                    yield new EventChoice(EnumSet.of(EventType.DROP), null, List.of());
                }
                List<DropReason> reasons = weirReasons(type.getSubType());
                yield reasons.isEmpty() ? null : new EventChoice(EnumSet.of(EventType.DROP), null, reasons);
            }
            case HubbleFlows.MESSAGE_TRACE -> {
                if (!type.getMatchSubType()) {
                    yield new EventChoice(TRACES, null, List.of());
                }
                yield switch (type.getSubType()) {
                    case HubbleFlows.TRACE_TO_ENDPOINT -> new EventChoice(TRACES, TracePoint.TO_ENDPOINT, List.of());
                    case HubbleFlows.TRACE_FROM_ENDPOINT -> new EventChoice(TRACES, TracePoint.FROM_ENDPOINT, List.of());
                    default -> null; // to-proxy, to-stack, ...: points Weir's datapath does not trace at
                };
            }
            case HubbleFlows.MESSAGE_POLICY_VERDICT, HubbleFlows.MESSAGE_ACCESS_LOG -> {
                if (type.getMatchSubType()) {
                    throw new Unsupported("event_type.sub_type of type " + type.getType());
                }
                yield new EventChoice(EnumSet.of(type.getType() == HubbleFlows.MESSAGE_ACCESS_LOG ? EventType.DNS
                        : EventType.POLICY_VERDICT), null, List.of());
            }
            default -> null; // agent, debug, capture events: Weir's flows are none of these
        };
    }

    /** Weir's reasons for one of Cilium's drop-reason numbers (see HubbleFlows.ciliumReason). */
    static List<DropReason> weirReasons(int cilium) {
        return switch (cilium) {
            case 142 -> List.of(DropReason.UNSUPPORTED_L4_PROTOCOL);
            case 165 -> List.of(DropReason.NO_POLICY_MAP, DropReason.NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION);
            case 140, 160 -> List.of(); // Cilium's meanings of these numbers, which Weir's datapath does not give
            default -> {
                DropReason same = DropReason.forNumber(cilium);
                yield same == null || same == DropReason.DROP_REASON_UNKNOWN ? List.of() : List.of(same);
            }
        };
    }

    /** Hubble's "namespace/pod-prefix"; a bare name is a pod of "default" and "/pod" one of any namespace. */
    static String pod(String selector, String field) {
        if (selector.isEmpty()) {
            throw new Unsupported(field + " \"\" (give namespace/, namespace/pod or /pod)");
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
