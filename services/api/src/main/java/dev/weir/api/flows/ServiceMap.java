package dev.weir.api.flows;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * GET /api/v1/servicemap: who talks to whom between since and until. Each connection is counted
 * once, by the verdict that decided it; {@code connections} is their total, {@code truncated}
 * whether the scan stopped at its bounds before the end of the range.
 */
public record ServiceMap(List<Node> nodes, List<Edge> edges, long connections, boolean truncated, Instant since,
        Instant until) {

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
