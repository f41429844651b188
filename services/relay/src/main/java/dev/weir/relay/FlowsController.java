package dev.weir.relay;

import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.observer.v1.FlowFilter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The cluster's flows over REST (/api/v1/flows), with the filters Hubble users know (the same
 * semantics as the Observer API's FlowFilter), history by time range from Kafka, first or last N;
 * and the service map (/api/v1/servicemap): workloads as nodes, edges with flow counts by verdict.
 */
@RestController
@RequestMapping("/api/v1")
public class FlowsController {

    private static final int MAX_LIMIT = 10_000;
    private final FlowHistory history;

    public FlowsController(FlowHistory history) {
        this.history = history;
    }

    public record FlowView(Instant time, String node, String verdict, String dropReason, String type, String source,
            String sourceIp, int sourcePort, String destination, String destinationIp, int destinationPort, String protocol,
            boolean reply, List<String> policies, String dnsQuery, String summary) {
    }

    public record FlowsResponse(List<FlowView> flows, long scanned, long undecodable, boolean truncated) {
    }

    @GetMapping("/flows")
    public FlowsResponse flows(@RequestParam(defaultValue = "1h") String since, @RequestParam(required = false) String until,
            @RequestParam(required = false) Integer last, @RequestParam(required = false) Integer first,
            @RequestParam(name = "from_pod", required = false) List<String> fromPod,
            @RequestParam(name = "to_pod", required = false) List<String> toPod,
            @RequestParam(name = "pod", required = false) List<String> pod,
            @RequestParam(name = "namespace", required = false) List<String> namespace,
            @RequestParam(name = "from_namespace", required = false) List<String> fromNamespace,
            @RequestParam(name = "to_namespace", required = false) List<String> toNamespace,
            @RequestParam(name = "label", required = false) List<String> label,
            @RequestParam(name = "verdict", required = false) List<String> verdict,
            @RequestParam(name = "drop_reason", required = false) List<String> dropReason,
            @RequestParam(name = "type", required = false) List<String> type,
            @RequestParam(name = "protocol", required = false) List<String> protocol,
            @RequestParam(name = "port", required = false) List<String> port,
            @RequestParam(name = "to_port", required = false) List<String> toPort,
            @RequestParam(name = "to_fqdn", required = false) List<String> toFqdn,
            @RequestParam(name = "node", required = false) List<String> node,
            @RequestParam(name = "not", defaultValue = "false") boolean not) {
        Instant from = instant("since", since);
        Instant to = until == null ? null : instant("until", until);
        if (first != null && last != null) {
            throw new BadRequest("first", "first and last exclude each other");
        }
        int limit = first != null ? first : last != null ? last : 100;
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new BadRequest(first != null ? "first" : "last", limit + " is out of range 1-" + MAX_LIMIT);
        }
        // Hubble's flags: a pod or namespace without a side matches either side (two filters, OR).
        List<FlowFilter.Builder> filters = new ArrayList<>();
        FlowFilter.Builder base = FlowFilter.newBuilder();
        addAll(fromPod, base::addSourcePod);
        addAll(toPod, base::addDestinationPod);
        addAll(fromNamespace, base::addSourceNamespace);
        addAll(toNamespace, base::addDestinationNamespace);
        addAll(toPort, base::addDestinationPort);
        addAll(toFqdn, base::addDestinationFqdn);
        addAll(node, base::addNodeName);
        addAll(protocol, p -> base.addProtocol(p.toLowerCase(Locale.ROOT)));
        for (String v : list(verdict)) {
            base.addVerdict(enumOf(Verdict.class, "verdict", v));
        }
        for (String r : list(dropReason)) {
            base.addDropReasonDesc(enumOf(DropReason.class, "drop_reason", r));
        }
        for (String t : list(type)) {
            base.addEventType(enumOf(EventType.class, "type", t));
        }
        filters.add(base);
        filters = either(filters, pod, FlowFilter.Builder::addSourcePod, FlowFilter.Builder::addDestinationPod);
        filters = either(filters, namespace, FlowFilter.Builder::addSourceNamespace, FlowFilter.Builder::addDestinationNamespace);
        filters = either(filters, label, FlowFilter.Builder::addSourceLabel, FlowFilter.Builder::addDestinationLabel);
        filters = either(filters, port, FlowFilter.Builder::addSourcePort, FlowFilter.Builder::addDestinationPort);
        List<FlowFilter> built = filters.stream().map(FlowFilter.Builder::build).toList();
        boolean any = built.stream().anyMatch(f -> !f.equals(FlowFilter.getDefaultInstance()));
        FlowHistory.Result result = history.query(from, to, not || !any ? List.of() : built, not && any ? built : List.of(),
                limit, first != null);
        return new FlowsResponse(result.flows().stream().map(FlowsController::view).toList(), result.scanned(),
                result.undecodable(), result.truncated());
    }

    public record MapNode(String id, String namespace, String workload) {
    }

    public record MapEdge(String source, String destination, Map<String, Long> verdicts) {
    }

    public record ServiceMap(List<MapNode> nodes, List<MapEdge> edges, long flows) {
    }

    /** Workloads (namespace/workload, else namespace/pod, else the address) and who talks to whom. */
    @GetMapping("/servicemap")
    public ServiceMap serviceMap(@RequestParam(defaultValue = "15m") String since) {
        FlowHistory.Result result = history.query(instant("since", since), null, List.of(), List.of(), MAX_LIMIT * 10, false);
        Map<String, MapNode> nodes = new TreeMap<>();
        Map<String, MapEdge> edges = new LinkedHashMap<>();
        for (Flow flow : result.flows()) {
            if (flow.getIsReply()) {
                continue;
            }
            MapNode source = node(flow.getSource(), flow.getIp().getSource());
            MapNode destination = node(flow.getDestination(), flow.getIp().getDestination());
            nodes.putIfAbsent(source.id(), source);
            nodes.putIfAbsent(destination.id(), destination);
            edges.computeIfAbsent(source.id() + " -> " + destination.id(),
                    k -> new MapEdge(source.id(), destination.id(), new TreeMap<>()))
                    .verdicts().merge(flow.getVerdict().name(), 1L, Long::sum);
        }
        return new ServiceMap(List.copyOf(nodes.values()), List.copyOf(edges.values()), result.flows().size());
    }

    private static MapNode node(dev.weir.proto.flow.v1.Endpoint e, String ip) {
        if (e.getNamespace().isEmpty()) {
            return new MapNode(ip.isEmpty() ? "world" : ip, "", "");
        }
        String workload = e.getWorkloadsCount() > 0 ? e.getWorkloads(0).getName() : e.getPodName();
        return new MapNode(e.getNamespace() + "/" + workload, e.getNamespace(), workload);
    }

    static FlowView view(Flow f) {
        List<String> policies = new ArrayList<>();
        for (List<PolicyRef> refs : List.of(f.getEgressDeniedByList(), f.getIngressDeniedByList(), f.getEgressAllowedByList(),
                f.getIngressAllowedByList())) {
            for (PolicyRef r : refs) {
                String name = dev.weir.common.flow.FlowFilters.policyName(r);
                if (!policies.contains(name)) {
                    policies.add(name);
                }
            }
        }
        int sourcePort = Math.max(0, dev.weir.common.flow.FlowFilters.sourcePort(f));
        int destinationPort = Math.max(0, dev.weir.common.flow.FlowFilters.destinationPort(f));
        return new FlowView(Instant.ofEpochSecond(f.getTime().getSeconds(), f.getTime().getNanos()), f.getNodeName(),
                f.getVerdict().name(), f.getVerdict() == Verdict.DROPPED ? f.getDropReason().name() : "", f.getEventType().name(),
                endpoint(f.getSource()), f.getIp().getSource(), sourcePort, endpoint(f.getDestination()),
                f.getIp().getDestination(), destinationPort, dev.weir.common.flow.FlowFilters.protocol(f).toUpperCase(Locale.ROOT),
                f.getIsReply(), policies, f.hasDns() ? f.getDns().getQuery() : "", f.getSummary());
    }

    private static String endpoint(dev.weir.proto.flow.v1.Endpoint e) {
        return e.getNamespace().isEmpty() ? "" : e.getNamespace() + "/" + e.getPodName();
    }

    private static List<String> list(List<String> values) {
        return values == null ? List.of() : values;
    }

    private static void addAll(List<String> values, java.util.function.Consumer<String> add) {
        list(values).forEach(add);
    }

    /** A flag without a side: each filter so far becomes two, one per side (OR between them). */
    private static List<FlowFilter.Builder> either(List<FlowFilter.Builder> filters, List<String> values,
            java.util.function.BiConsumer<FlowFilter.Builder, String> source,
            java.util.function.BiConsumer<FlowFilter.Builder, String> destination) {
        if (values == null || values.isEmpty()) {
            return filters;
        }
        List<FlowFilter.Builder> result = new ArrayList<>();
        for (FlowFilter.Builder f : filters) {
            FlowFilter.Builder a = f.clone();
            values.forEach(v -> source.accept(a, v));
            FlowFilter.Builder b = f.clone();
            values.forEach(v -> destination.accept(b, v));
            result.add(a);
            result.add(b);
        }
        return result;
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String field, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(field, "'" + value + "' is not one of " + java.util.Arrays.toString(type.getEnumConstants()));
        }
    }

    static Instant instant(String field, String value) {
        try {
            return dev.weir.common.time.Durations.pointInTime(value, Instant.now());
        } catch (IllegalArgumentException e) {
            throw new BadRequest(field, e.getMessage());
        }
    }

    static final class BadRequest extends RuntimeException {
        final String field;

        BadRequest(String field, String message) {
            super(field + ": " + message);
            this.field = field;
        }
    }

    public record Problem(String error, String field) {
    }

    @ExceptionHandler(BadRequest.class)
    public ResponseEntity<Problem> bad(BadRequest e) {
        return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(new Problem(e.getMessage(), e.field));
    }
}
