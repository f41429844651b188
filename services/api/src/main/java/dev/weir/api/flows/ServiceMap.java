package dev.weir.api.flows;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * GET /api/v1/servicemap: who talks to whom between since and until. Each connection is counted
 * once, by the verdict that decided it; {@code connections} is their total (those drawn),
 * {@code omitted} the connections of edges beyond {@link #MAX_EDGES} (not drawn), {@code truncated}
 * whether the scan stopped at its bounds before the end of the range. Beyond {@link #MAX_NODES},
 * addresses outside the cluster are drawn as one node, "world".
 */
public record ServiceMap(List<Node> nodes, List<Edge> edges, long connections, long omitted, boolean truncated,
        Instant since, Instant until) {

    public static final int MAX_NODES = 1000;
    public static final int MAX_EDGES = 5000;

    public ServiceMap {
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        edges = edges == null ? List.of() : List.copyOf(edges);
    }

    /**
     * A workload (namespace/workload, else namespace/pod) or an address outside the cluster (no
     * namespace); labels are those of one of its pods, for drawing policies.
     */
    public record Node(String id, String namespace, String workload, List<String> labels) {
        public Node {
            namespace = namespace == null ? "" : namespace;
            workload = workload == null ? "" : workload;
            labels = labels == null ? List.of() : List.copyOf(labels);
        }
    }

    /**
     * Connections from source to destination: counts by verdict, and the destination's protocols
     * and ports ("TCP/8080", "UDP/53", "ICMP"), at most {@link #MAX_PORTS}; portsTruncated when
     * there were more.
     */
    public record Edge(String source, String destination, Map<String, Long> verdicts, List<String> ports,
            boolean portsTruncated) {

        public static final int MAX_PORTS = 16;

        public Edge {
            verdicts = verdicts == null ? Map.of() : verdicts;
            ports = ports == null ? List.of() : ports;
        }
    }
}
