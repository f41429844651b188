package dev.weir.relay;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The cluster at a glance: its nodes (from the agents' heartbeats), namespaces seen in flows, and totals. */
@RestController
@RequestMapping("/api/v1")
public class ClusterController {

    private final NodeDirectory nodes;
    private final FlowHistory history;

    public ClusterController(NodeDirectory nodes, FlowHistory history) {
        this.nodes = nodes;
        this.history = history;
    }

    @Operation(summary = "The nodes whose agents report, with their last heartbeat")
    @GetMapping("/nodes")
    public List<NodeDirectory.NodeView> nodes() {
        return nodes.nodes(Instant.now());
    }

    public record NamespaceView(String name, long flows) {
    }

    /** Namespaces with pods in flows since (default 1h), busiest first. */
    @Operation(summary = "Namespaces with pods in flows since then, busiest first")
    @GetMapping("/namespaces")
    public List<NamespaceView> namespaces(@Parameter(description = "From when: a duration back (1h) or an RFC 3339 instant.") @RequestParam(defaultValue = "1h") String since) {
        Map<String, Long> counts = new TreeMap<>();
        history.stream(FlowQuery.instant("since", since), null, List.of(), List.of(), 0, flow -> {
            count(counts, flow.getSource().getNamespace());
            if (!flow.getDestination().getNamespace().equals(flow.getSource().getNamespace())) {
                count(counts, flow.getDestination().getNamespace());
            }
            return true;
        });
        return counts.entrySet().stream().map(e -> new NamespaceView(e.getKey(), e.getValue()))
                .sorted((a, b) -> Long.compare(b.flows(), a.flows())).toList();
    }

    private static void count(Map<String, Long> counts, String namespace) {
        if (!namespace.isEmpty()) {
            counts.merge(namespace, 1L, Long::sum);
        }
    }

    @Operation(summary = "The cluster at a glance: nodes connected and unavailable, flows seen and lost")
    @GetMapping("/status")
    public NodeDirectory.Totals status() {
        return nodes.totals(Instant.now());
    }
}
