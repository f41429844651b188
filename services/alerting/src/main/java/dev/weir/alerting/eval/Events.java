package dev.weir.alerting.eval;

import dev.weir.alerting.rules.Rule;
import dev.weir.common.dns.DnsWindowMeasures;
import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.state.v1.NodeStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Records of the topics rules read, as events of their streams. A flow may be in two streams. */
public final class Events {

    private Events() {
    }

    public static List<Event> of(Flow flow) {
        Map<String, String> labels = labels(flow);
        List<PolicyRef> deniers = new ArrayList<>(flow.getEgressDeniedByList());
        deniers.addAll(flow.getIngressDeniedByList());
        labels.put("policy", deniers.isEmpty() ? "" : FlowFilters.policyName(deniers.get(0)));
        long time = time(flow);
        Map<String, String> fixed = Map.copyOf(labels);
        List<Event> events = new ArrayList<>(2);
        events.add(new Event(Rule.Stream.FLOWS, time, fixed, Map.of()));
        if (flow.getVerdict() == Verdict.DROPPED && (flow.getDropReason() == DropReason.POLICY_DENIED
                || flow.getDropReason() == DropReason.POLICY_DENY)) {
            events.add(new Event(Rule.Stream.POLICY_DROPS, time, fixed, Map.of()));
        }
        return events;
    }

    /** A connection staged policies would drop: one event per staged policy, named in "policy". */
    public static List<Event> ofStagedDrop(Flow flow) {
        Map<String, String> labels = labels(flow);
        List<Event> events = new ArrayList<>(flow.getStagedDeniedByCount());
        for (PolicyRef staged : flow.getStagedDeniedByList()) {
            labels.put("policy", FlowFilters.policyName(staged));
            events.add(new Event(Rule.Stream.STAGED_DROPS, time(flow), Map.copyOf(labels), Map.of()));
        }
        return events;
    }

    private static long time(Flow flow) {
        return flow.getTime().getSeconds() * 1000 + flow.getTime().getNanos() / 1_000_000;
    }

    private static Map<String, String> labels(Flow flow) {
        Map<String, String> labels = new HashMap<>();
        labels.put("verdict", flow.getVerdict().name());
        labels.put("drop_reason", flow.getVerdict() == Verdict.DROPPED ? flow.getDropReason().name() : "");
        labels.put("source_namespace", flow.getSource().getNamespace());
        labels.put("source_pod", flow.getSource().getPodName());
        labels.put("source_workload", flow.getSource().getWorkloadsCount() == 0 ? "" : flow.getSource().getWorkloads(0).getName());
        labels.put("destination_namespace", flow.getDestination().getNamespace());
        labels.put("destination_pod", flow.getDestination().getPodName());
        labels.put("destination_workload", flow.getDestination().getWorkloadsCount() == 0 ? ""
                : flow.getDestination().getWorkloads(0).getName());
        labels.put("node", flow.getNodeName());
        labels.put("type", flow.getEventType().name());
        labels.put("protocol", FlowFilters.protocol(flow).toUpperCase(java.util.Locale.ROOT));
        int port = FlowFilters.destinationPort(flow);
        labels.put("destination_port", port <= 0 ? "" : Integer.toString(port));
        return labels;
    }

    public static Event of(DnsInsight insight) {
        return new Event(Rule.Stream.DNS_INSIGHTS, insight.getTime().getSeconds() * 1000,
                Map.of("kind", insight.getKind().name(), "namespace", insight.getNamespace(), "pod", insight.getPodName(),
                        "workload", insight.getWorkload(), "node", insight.getNodeName(),
                        "resolved", Boolean.toString(insight.getResolved())),
                Map.of("value", insight.getValue()));
    }

    /** A DNS window, measured as the DNS service defines its measures ({@link DnsWindowMeasures}). */
    public static Event of(DnsClientStats stats) {
        Map<String, Double> values = new HashMap<>();
        values.put("queries", (double) stats.getQueries());
        values.put("nxdomain", (double) stats.getResponsesOrDefault("NXDOMAIN", 0));
        values.put("servfail", (double) stats.getResponsesOrDefault("SERVFAIL", 0));
        values.put("unanswered", (double) stats.getUnanswered());
        values.put("nxdomain_ratio", DnsWindowMeasures.nxdomainRatio(stats));
        values.put("servfail_ratio", DnsWindowMeasures.servfailRatio(stats));
        values.put("unanswered_ratio", DnsWindowMeasures.unansweredRatio(stats));
        values.put("latency_p95_ms", stats.getLatencyP95Ms());
        values.put("latency_p99_ms", stats.getLatencyP99Ms());
        values.put("search_path_wasted", (double) stats.getSearchPathWasted());
        values.put("dropped", (double) stats.getDropped());
        return new Event(Rule.Stream.DNS_STATS, stats.getWindowEnd().getSeconds() * 1000,
                Map.of("namespace", stats.getNamespace(), "pod", stats.getPodName(), "workload", stats.getWorkload(),
                        "node", stats.getNodeName()), values, DnsWindowMeasures.latencyBuckets(stats));
    }

    public static Event of(NodeStatus status) {
        return new Event(Rule.Stream.NODE_STATUS, status.getTime().getSeconds() * 1000,
                Map.of("node", status.getNodeName(), "version", status.getVersion()),
                Map.of("flows_seen", (double) status.getFlowsSeen(), "flows_lost", (double) status.getFlowsLost(),
                        "endpoints", (double) status.getEndpoints(), "max_map_pressure", status.getMaxMapPressure()));
    }
}
