package dev.weir.common.flow;

import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Workload;
import dev.weir.proto.observer.v1.FlowFilter;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Hubble's filter semantics for Weir's flows: a flow passes when it matches any whitelist filter
 * (or there is none) and no blacklist filter. Within a filter every set field must match (AND);
 * the values of one field are alternatives (OR). Shared by the node's Observer and the relay.
 */
public final class FlowFilters {

    private FlowFilters() {
    }

    /**
     * Refuses filters no flow can be matched against because a value is not one at all (a label
     * selector that does not parse): an IllegalArgumentException naming the field, before any
     * flow is read.
     */
    public static void check(List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
        for (List<FlowFilter> filters : List.of(whitelist, blacklist)) {
            for (FlowFilter f : filters) {
                for (var labels : List.of(Map.entry("source_label", f.getSourceLabelList()),
                        Map.entry("destination_label", f.getDestinationLabelList()))) {
                    for (String selector : labels.getValue()) {
                        try {
                            LabelSelector.of(selector);
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException(labels.getKey() + ": " + e.getMessage(), e);
                        }
                    }
                }
            }
        }
    }

    public static boolean passes(Flow flow, List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
        if (!whitelist.isEmpty() && whitelist.stream().noneMatch(f -> matches(flow, f))) {
            return false;
        }
        return blacklist.stream().noneMatch(f -> matches(flow, f));
    }

    public static boolean matches(Flow flow, FlowFilter f) {
        return any(f.getUuidList(), u -> u.equals(flow.getUuid()))
                && any(f.getSourcePodList(), p -> pod(flow.getSource(), p))
                && any(f.getDestinationPodList(), p -> pod(flow.getDestination(), p))
                && any(f.getSourceLabelList(), l -> LabelSelector.of(l).matches(flow.getSource().getLabelsList()))
                && any(f.getDestinationLabelList(), l -> LabelSelector.of(l).matches(flow.getDestination().getLabelsList()))
                && any(f.getSourceNamespaceList(), n -> n.equals(flow.getSource().getNamespace()))
                && any(f.getDestinationNamespaceList(), n -> n.equals(flow.getDestination().getNamespace()))
                && any(f.getSourceIdentityList(), i -> i == flow.getSource().getIdentity())
                && any(f.getDestinationIdentityList(), i -> i == flow.getDestination().getIdentity())
                && any(f.getSourceIpList(), ip -> inPrefix(flow.getIp().getSource(), ip))
                && any(f.getDestinationIpList(), ip -> inPrefix(flow.getIp().getDestination(), ip))
                && any(f.getSourceFqdnList(), q -> flow.getSourceNamesList().stream().anyMatch(n -> wildcard(q, n)))
                && any(f.getDestinationFqdnList(), q -> flow.getDestinationNamesList().stream().anyMatch(n -> wildcard(q, n)))
                && any(f.getVerdictList(), v -> v == flow.getVerdict())
                && any(f.getDropReasonDescList(), r -> r == flow.getDropReason())
                && any(f.getProtocolList(), p -> p.equalsIgnoreCase(protocol(flow)))
                && any(f.getSourcePortList(), p -> p.equals(Integer.toString(sourcePort(flow))))
                && any(f.getDestinationPortList(), p -> p.equals(Integer.toString(destinationPort(flow))))
                && any(f.getDnsQueryList(), q -> flow.hasDns() && wildcard(q, flow.getDns().getQuery()))
                && any(f.getTrafficDirectionList(), d -> d == flow.getTrafficDirection())
                && any(f.getNodeNameList(), n -> wildcard(n, flow.getNodeName()))
                && any(f.getEventTypeList(), t -> t == flow.getEventType())
                && any(f.getReplyList(), r -> r == flow.getIsReply())
                && any(f.getSourceWorkloadList(), w -> workload(flow.getSource(), w))
                && any(f.getDestinationWorkloadList(), w -> workload(flow.getDestination(), w))
                && any(f.getTracePointList(), t -> t == flow.getTracePoint());
    }

    private interface Test<T> {
        boolean test(T value);
    }

    private static <T> boolean any(List<T> values, Test<T> test) {
        if (values.isEmpty()) {
            return true;
        }
        for (T value : values) {
            if (test.test(value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * "ns/" or "ns" matches the namespace, "ns/prefix" pods whose name starts with prefix, and
     * "/prefix" such pods in any namespace.
     */
    static boolean pod(Endpoint endpoint, String selector) {
        if (selector.startsWith("/")) {
            return !endpoint.getPodName().isEmpty() && endpoint.getPodName().startsWith(selector.substring(1));
        }
        int slash = selector.indexOf('/');
        if (slash < 0) {
            return endpoint.getPodName().startsWith(selector) && !endpoint.getPodName().isEmpty();
        }
        String namespace = selector.substring(0, slash);
        String prefix = selector.substring(slash + 1);
        return namespace.equals(endpoint.getNamespace()) && endpoint.getPodName().startsWith(prefix);
    }

    static boolean workload(Endpoint endpoint, String name) {
        for (Workload workload : endpoint.getWorkloadsList()) {
            if (workload.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * "*" matches any run of characters; comparison ignores case and a trailing dot. Matched
     * without a regular expression, in time linear in the value for each literal part: the parts
     * between stars are found left to right, each at its first place after the one before (the
     * first part anchored at the start, the last at the end), which never needs to go back.
     */
    static boolean wildcard(String pattern, String value) {
        String p = strip(pattern);
        String v = strip(value);
        if (p.indexOf('*') < 0) {
            return p.equals(v);
        }
        String[] parts = p.split("\\*", -1);
        String first = parts[0];
        String last = parts[parts.length - 1];
        if (v.length() < first.length() + last.length() || !v.startsWith(first) || !v.endsWith(last)) {
            return false;
        }
        int from = first.length();
        int end = v.length() - last.length();
        for (int i = 1; i < parts.length - 1; i++) {
            if (parts[i].isEmpty()) {
                continue;
            }
            int at = v.indexOf(parts[i], from);
            if (at < 0 || at + parts[i].length() > end) {
                return false;
            }
            from = at + parts[i].length();
        }
        return true;
    }

    private static String strip(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    /**
     * An address equals the value, or lies in it when the value is a CIDR prefix. Both must be IP
     * literals: a name is never resolved (a client's filter must not make the relay ask DNS).
     */
    public static boolean inPrefix(String address, String value) {
        if (address.isEmpty()) {
            return false;
        }
        int slash = value.indexOf('/');
        if (slash < 0) {
            return address.equals(value);
        }
        try {
            byte[] a = com.google.common.net.InetAddresses.forString(address).getAddress();
            byte[] p = com.google.common.net.InetAddresses.forString(value.substring(0, slash)).getAddress();
            int bits = Integer.parseInt(value.substring(slash + 1));
            if (a.length != p.length || bits < 0 || bits > a.length * 8) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((a[i / 8] & mask) != (p[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (IllegalArgumentException e) { // not a literal, or bits not a number
            return false;
        }
    }

    /** How a policy is named in flows, alerts and insights: kind/namespace/name, or kind/name cluster-wide. */
    public static String policyName(dev.weir.proto.flow.v1.PolicyRef ref) {
        return ref.getKind() + "/" + (ref.getNamespace().isEmpty() ? "" : ref.getNamespace() + "/") + ref.getName();
    }

    public static String protocol(Flow flow) {
        return switch (flow.getL4().getProtocolCase()) {
            case TCP -> "tcp";
            case UDP -> "udp";
            case ICMPV4 -> "icmp";
            case ICMPV6 -> "icmpv6";
            case SCTP -> "sctp";
            default -> "";
        };
    }

    /** The flow's source port; -1 for a protocol without ports. */
    public static int sourcePort(Flow flow) {
        return switch (flow.getL4().getProtocolCase()) {
            case TCP -> flow.getL4().getTcp().getSourcePort();
            case UDP -> flow.getL4().getUdp().getSourcePort();
            case SCTP -> flow.getL4().getSctp().getSourcePort();
            default -> -1;
        };
    }

    /** The flow's destination port; -1 for a protocol without ports. */
    public static int destinationPort(Flow flow) {
        return switch (flow.getL4().getProtocolCase()) {
            case TCP -> flow.getL4().getTcp().getDestinationPort();
            case UDP -> flow.getL4().getUdp().getDestinationPort();
            case SCTP -> flow.getL4().getSctp().getDestinationPort();
            default -> -1;
        };
    }
}
