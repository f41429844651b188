package dev.weir.relay;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import dev.weir.api.flows.FlowView;
import dev.weir.api.flows.FlowsLost;
import dev.weir.api.flows.FlowsResponse;
import dev.weir.api.flows.ServiceMap;
import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.observer.v1.FlowFilter;
import jakarta.servlet.http.HttpServletResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;
import tools.jackson.databind.ObjectMapper;

/**
 * The cluster's flows over REST (/api/v1/flows), with the filters Hubble users know (the same
 * semantics as the Observer API's FlowFilter), history by time range from Kafka, first or last N;
 * and the service map (/api/v1/servicemap): workloads as nodes, edges with flow counts by verdict.
 */
@RestController
@RequestMapping("/api/v1")
public class FlowsController {

    private final FlowHistory history;
    private final FlowTail tail;
    private final ObjectMapper json;

    private final RelayMetrics metrics;
    private final List<String> serviceCidrs;

    public FlowsController(FlowHistory history, FlowTail tail, ObjectMapper json, RelayMetrics metrics,
            RelayApplication.RelayProperties properties) {
        this.metrics = metrics;
        this.serviceCidrs = properties.serviceCidrs();
        this.history = history;
        this.tail = tail;
        this.json = json;
    }

    /**
     * History: the last (or first) N flows matching the query between since (default 1h ago) and
     * until; {@code next} is the page token for the flows beyond this page, if there may be any.
     */
    @Operation(summary = "The last (or first) N flows matching the filters in a time range, from Kafka; paged by next")
    @GetMapping("/flows")
    public FlowsResponse flows(FlowQuery query) {
        Page page = metrics.query("flows", () -> page(query), p -> RelayMetrics.stats(p.result()));
        FlowHistory.Result result = page.result();
        return new FlowsResponse(result.flows().stream().map(FlowsController::view).toList(), result.scanned(),
                result.undecodable(), result.truncated(), page.next());
    }

    /** One page of history for a query: the flows, and the token for the next page (null at the end). */
    private record Page(FlowHistory.Result result, String next) {
    }

    private Page page(FlowQuery query) {
        int limit = query.limit(100);
        FlowQuery.Filters filters = query.filters();
        Instant since = query.sinceOr("1h");
        Instant until = query.untilOrNull();
        boolean first = query.firstMode();
        if (first && until == null) {
            until = Instant.now(); // pages read forwards end where the first one was asked
        }
        List<FlowFilter> blacklist = new ArrayList<>(filters.blacklist());
        if (query.page() != null) {
            PageToken token = PageToken.decode(query.page());
            if (token.first() != first) {
                throw new BadRequest("page", "the token is for a " + (token.first() ? "first" : "last") + " query");
            }
            if (first) {
                since = token.edge();
                until = token.bound();
            } else {
                until = token.edge();
                since = token.bound();
            }
            if (!token.seen().isEmpty()) {
                blacklist.add(FlowFilter.newBuilder().addAllUuid(token.seen()).build());
            }
        }
        FlowHistory.Result result = history.query(since, until, filters.whitelist(), blacklist, limit, first);
        return new Page(result, next(result.flows(), limit, first, first ? until : since));
    }

    private static final com.google.protobuf.util.JsonFormat.Printer HUBBLE_JSON =
            com.google.protobuf.util.JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

    /**
     * The same history in Hubble's export format: one observer.GetFlowsResponse per line as
     * protojson, as Hubble's flow exporter writes it and `hubble observe --input-file` reads it
     * (what `weir observe -o jsonpb` prints). Paging as for /flows, the token in the Weir-Next header;
     * Weir-Truncated says the scan stopped at its bounds (a further page could skip flows).
     */
    @Operation(summary = "The same history in Hubble's export format: one observer.GetFlowsResponse a line (protojson)")
    @GetMapping(value = "/flows/export", produces = "application/x-ndjson")
    public ResponseEntity<String> export(FlowQuery query) {
        Page page = metrics.query("export", () -> page(query), p -> RelayMetrics.stats(p.result()));
        FlowHistory.Result result = page.result();
        StringBuilder lines = new StringBuilder();
        for (Flow flow : result.flows()) {
            try {
                HUBBLE_JSON.appendTo(dev.weir.proto.hubble.observer.GetFlowsResponse.newBuilder()
                        .setFlow(dev.weir.common.hubble.HubbleFlows.of(flow)).setNodeName(flow.getNodeName())
                        .setTime(flow.getTime()).build(), lines);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            lines.append('\n');
        }
        ResponseEntity.BodyBuilder answer = ResponseEntity.ok().contentType(org.springframework.http.MediaType.parseMediaType(
                "application/x-ndjson"));
        if (page.next() != null) {
            answer.header("Weir-Next", page.next());
        }
        if (result.truncated()) {
            answer.header("Weir-Truncated", "scan stopped at its bounds after " + result.scanned() + " records");
        }
        return answer.body(lines.toString());
    }

    private static String next(List<Flow> flows, int limit, boolean first, Instant bound) {
        if (flows.size() < limit) {
            return null;
        }
        Flow edge = first ? flows.get(flows.size() - 1) : flows.get(0);
        List<String> seen = flows.stream().filter(f -> f.getTime().equals(edge.getTime())).map(Flow::getUuid).toList();
        return new PageToken(first, Instant.ofEpochSecond(edge.getTime().getSeconds(), edge.getTime().getNanos()), seen, bound)
                .encode();
    }

    /**
     * Live flows matching the query, one JSON object per line (NDJSON) as they arrive, until the
     * client goes away; {"lost": n} when this follower fell behind and n flows were dropped for it.
     */
    @Operation(summary = "Live flows matching the filters, one JSON object a line as they come")
    @GetMapping(value = "/flows/follow", produces = "application/x-ndjson")
    public ResponseEntity<StreamingResponseBody> follow(FlowQuery query, HttpServletResponse response) {
        FlowQuery.Filters filters = query.filters();
        FlowTail.Follower follower = tail.follow();
        StreamingResponseBody body = out -> {
            // The stream's own flush leaves bytes in the servlet container's buffer: flush the
            // response itself after every line, so each flow reaches the client as it comes.
            Runnable flush = () -> {
                try {
                    out.flush();
                    response.flushBuffer();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            try (follower) {
                out.write('\n'); // the response starts now: clients see the stream open at once
                flush.run();
                long idleSince = System.nanoTime();
                while (true) {
                    Flow flow = follower.next(250, TimeUnit.MILLISECONDS);
                    long lost = follower.takeLost();
                    if (lost > 0) {
                        out.write(json.writeValueAsBytes(new FlowsLost(lost)));
                        out.write('\n');
                        flush.run();
                    }
                    if (flow != null && FlowFilters.passes(flow, filters.whitelist(), filters.blacklist())) {
                        out.write(json.writeValueAsBytes(view(flow)));
                        out.write('\n');
                        flush.run();
                        idleSince = System.nanoTime();
                    } else if (System.nanoTime() - idleSince > TimeUnit.SECONDS.toNanos(5)) {
                        out.write('\n'); // keep-alive; fails once the client has gone
                        flush.run();
                        idleSince = System.nanoTime();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.io.UncheckedIOException e) {
                // the client went away
            }
        };
        return ResponseEntity.ok().contentType(MediaType.parseMediaType("application/x-ndjson")).body(body);
    }

    /**
     * Workloads (namespace/workload, else namespace/pod, else the address) and who connects to
     * whom between since (default 15m ago) and until (default now).
     */
    @Operation(summary = "Who connects to whom in a time range: workloads, and edges with counts by verdict and ports")
    @GetMapping("/servicemap")
    public ServiceMap serviceMap(@Parameter(description = "From when: a duration back (15m) or an RFC 3339 instant.") @RequestParam(defaultValue = "15m") String since,
            @Parameter(description = "Until when: a duration back or an RFC 3339 instant; default now.") @RequestParam(required = false) String until) {
        Instant from = FlowQuery.instant("since", since);
        Instant to = until == null ? Instant.now() : FlowQuery.instant("until", until);
        if (to.isBefore(from)) {
            throw new BadRequest("until", "is before since");
        }
        // Counted as the scan goes: every flow of the range, none kept; nodes and edges bounded,
        // since spoofed or scanned addresses would otherwise make one of each per address.
        Map<String, ServiceMap.Node> nodes = new TreeMap<>();
        Map<String, EdgeCount> edges = new TreeMap<>();
        long[] connections = {0};
        long[] omitted = {0};
        FlowScan.Stats stats = metrics.query("servicemap", () -> history.stream(from, to, List.of(), List.of(), 0, flow -> {
            if (!decidesAConnection(flow, serviceCidrs)) {
                return true;
            }
            ServiceMap.Node source = bounded(nodes, node(flow.getSource(), flow.getIp().getSource()));
            ServiceMap.Node destination = bounded(nodes, node(flow.getDestination(), flow.getIp().getDestination()));
            String key = source.id() + " -> " + destination.id();
            EdgeCount edge = edges.get(key);
            if (edge == null) {
                if (edges.size() >= ServiceMap.MAX_EDGES) {
                    omitted[0]++;
                    return true;
                }
                edge = new EdgeCount(source.id(), destination.id());
                edges.put(key, edge);
            }
            nodes.putIfAbsent(source.id(), source);
            nodes.putIfAbsent(destination.id(), destination);
            edge.add(flow);
            connections[0]++;
            return true;
        }), s -> s);
        return new ServiceMap(List.copyOf(nodes.values()), edges.values().stream().map(EdgeCount::edge).toList(),
                connections[0], omitted[0], stats.truncated(), from, to);
    }

    /**
     * The node itself while the map has room; beyond {@link ServiceMap#MAX_NODES} an address
     * outside the cluster becomes "world" (the cluster's own workloads stay themselves).
     */
    private static ServiceMap.Node bounded(Map<String, ServiceMap.Node> nodes, ServiceMap.Node node) {
        if (nodes.containsKey(node.id()) || nodes.size() < ServiceMap.MAX_NODES || !node.namespace().isEmpty()) {
            return node;
        }
        return new ServiceMap.Node("world", "", "", List.of());
    }

    /** An edge being counted: verdicts, and the destination's protocols and ports in order. */
    private static final class EdgeCount {
        final String source;
        final String destination;
        final Map<String, Long> verdicts = new TreeMap<>();
        final java.util.SortedSet<String> ports = new java.util.TreeSet<>();
        boolean portsTruncated;

        EdgeCount(String source, String destination) {
            this.source = source;
            this.destination = destination;
        }

        void add(Flow flow) {
            verdicts.merge(flow.getVerdict().name(), 1L, Long::sum);
            String protocol = dev.weir.common.flow.FlowFilters.protocol(flow).toUpperCase(Locale.ROOT);
            int port = dev.weir.common.flow.FlowFilters.destinationPort(flow);
            String key = protocol.isEmpty() ? "IP" : port > 0 ? protocol + "/" + port : protocol;
            if (!ports.contains(key)) {
                if (ports.size() < ServiceMap.Edge.MAX_PORTS) {
                    ports.add(key);
                } else {
                    portsTruncated = true;
                }
            }
        }

        ServiceMap.Edge edge() {
            return new ServiceMap.Edge(source, destination, verdicts, List.copyOf(ports), portsTruncated);
        }
    }

    /**
     * Whether a flow is the one that decided a connection, so the map counts each connection once.
     * A connection between two pods is judged twice, by the sender's egress and the receiver's
     * ingress, and each judgement is a flow; DNS messages, closes and replies ride on a connection
     * already counted. What decides is a drop wherever it happened (each dropped attempt counts),
     * else the new connection the receiver forwarded, else (towards the outside world, where no
     * Weir ingress follows) the sender's forward. A connection to a Service's address is judged at
     * the sender before the Service's translation and again at the backend: the backend's counts.
     * An audited drop at the sender lets the connection through to the receiver, who decides it.
     */
    static boolean decidesAConnection(Flow flow, List<String> serviceCidrs) {
        if (flow.getIsReply()) {
            return false;
        }
        boolean egress = flow.getTrafficDirection() == dev.weir.proto.flow.v1.TrafficDirection.EGRESS;
        return switch (flow.getEventType()) {
            case DROP -> !(egress && flow.getVerdict() == Verdict.AUDIT && judgedAgainAtReceiver(flow, serviceCidrs));
            case NEW_CONNECTION -> !egress || !judgedAgainAtReceiver(flow, serviceCidrs);
            default -> false;
        };
    }

    /** Whether the connection reaches a Weir endpoint that judges it again: a pod, or a Service's address. */
    private static boolean judgedAgainAtReceiver(Flow flow, List<String> serviceCidrs) {
        if (!flow.getDestination().getNamespace().isEmpty()) {
            return true;
        }
        for (String cidr : serviceCidrs) {
            if (dev.weir.common.flow.FlowFilters.inPrefix(flow.getIp().getDestination(), cidr)) {
                return true;
            }
        }
        return false;
    }

    private static ServiceMap.Node node(dev.weir.proto.flow.v1.Endpoint e, String ip) {
        if (e.getNamespace().isEmpty()) {
            return new ServiceMap.Node(ip.isEmpty() ? "world" : ip, "", "", List.of());
        }
        String workload = e.getWorkloadsCount() > 0 ? e.getWorkloads(0).getName() : e.getPodName();
        return new ServiceMap.Node(e.getNamespace() + "/" + workload, e.getNamespace(), workload,
                List.copyOf(e.getLabelsList()));
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
        return new FlowView(f.getUuid(), Instant.ofEpochSecond(f.getTime().getSeconds(), f.getTime().getNanos()), f.getNodeName(),
                f.getVerdict().name(), f.getVerdict() == Verdict.DROPPED ? f.getDropReason().name() : "", f.getEventType().name(),
                endpoint(f.getSource()), f.getIp().getSource(), sourcePort, endpoint(f.getDestination()),
                f.getIp().getDestination(), destinationPort, dev.weir.common.flow.FlowFilters.protocol(f).toUpperCase(Locale.ROOT),
                f.getIsReply(), policies, f.hasDns() ? f.getDns().getQuery() : "", f.getSummary(), switch (f.getTracePoint()) {
                    case FROM_ENDPOINT -> "from-endpoint";
                    case TO_ENDPOINT -> "to-endpoint";
                    default -> "";
                }, f.getTrafficDirection() == dev.weir.proto.flow.v1.TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN ? ""
                        : f.getTrafficDirection().name().toLowerCase(Locale.ROOT),
                f.getSource().getIdentity(), f.getDestination().getIdentity());
    }

    private static String endpoint(dev.weir.proto.flow.v1.Endpoint e) {
        return e.getNamespace().isEmpty() ? "" : e.getNamespace() + "/" + e.getPodName();
    }
}
