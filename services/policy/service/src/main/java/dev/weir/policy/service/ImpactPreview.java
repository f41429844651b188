package dev.weir.policy.service;

import dev.weir.api.policy.PreviewChange;
import dev.weir.api.policy.PreviewResult;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays the recorded flows of the last minutes from Kafka against the policies in force and
 * against a proposed change, and lists the connections whose verdict would change. Only a
 * connection's first packet is judged (new connections and drops); the two sightings of one
 * connection (the sender's egress, the receiver's ingress) count once.
 */
public final class ImpactPreview {

    /** A connection pattern whose verdict changes, and how many recorded flows it covers. */
    private static final int MAX_FLOWS = 500_000;
    private static final int MAX_CHANGES = 1_000;

    private ImpactPreview() {
    }

    public static PreviewResult preview(dev.weir.common.kafka.KafkaConnection kafka, Duration window, Cluster cluster, Compilation current,
            Compilation proposed) {
        Instant now = Instant.now();
        Connections connections = new Connections(cluster);
        RecordedFlows.Read read = RecordedFlows.read(kafka, now.minus(window), now.plusSeconds(1), MAX_FLOWS,
                Duration.ofSeconds(30), connections);
        return judge(read, connections, current, proposed);
    }

    /** The connections whose verdict differs between the two compilations, most frequent first. */
    static PreviewResult judge(RecordedFlows.Read read, Connections connections, Compilation current, Compilation proposed) {
        boolean truncated = read.truncated() || connections.beyondBound > 0;
        Map<String, Cluster.Pod> podsByIp = connections.podsByIp;
        List<PreviewChange> changes = new ArrayList<>();
        for (Map.Entry<String, long[]> c : connections.counts.entrySet()) {
            String[] d = connections.described.get(c.getKey());
            Cluster.Pod source = podsByIp.get(d[0]);
            Cluster.Pod destination = podsByIp.get(d[1]);
            int port = Integer.parseInt(d[2]);
            Protocol protocol = Protocol.valueOf(d[3]);
            Cluster cluster = connections.cluster;
            boolean before = Verdicts.decide(current, cluster, source, d[0], destination, d[1], port, protocol).allowed();
            boolean after = Verdicts.decide(proposed, cluster, source, d[0], destination, d[1], port, protocol).allowed();
            if (before != after) {
                changes.add(new PreviewChange(source == null ? d[0] : source.key(), destination == null ? d[1] : destination.key(),
                        port, d[3], before ? "FORWARDED" : "DROPPED", after ? "FORWARDED" : "DROPPED", c.getValue()[0]));
            }
        }
        changes.sort(Comparator.comparingLong(PreviewChange::flows).reversed());
        if (changes.size() > MAX_CHANGES) {
            changes = new ArrayList<>(changes.subList(0, MAX_CHANGES));
            truncated = true;
        }
        return new PreviewResult(read.since(), read.flows(), connections.counts.size(), changes, truncated);
    }

    /**
     * The connections of recorded flows (first packets: new connections and drops), by source,
     * destination, port and protocol, with how many flows each covers. The two sightings of one
     * connection (the sender's egress, the receiver's ingress) count once.
     */
    static final class Connections implements java.util.function.Consumer<Flow> {
        private final Map<String, Cluster.Pod> podsByIp = new HashMap<>();
        private final Map<String, long[]> counts = new LinkedHashMap<>();
        private final Map<String, String[]> described = new HashMap<>();

        private final Cluster cluster;

        Connections(Cluster cluster) {
            this.cluster = cluster;
            cluster.pods().forEach(p -> podsByIp.put(p.ip(), p));
        }

        /** Flows of connections beyond the bound, not judged (and the preview marked truncated). */
        private long beyondBound;

        @Override
        public void accept(Flow flow) {
            if (!judge(flow, podsByIp, counts, described)) {
                beyondBound++;
            }
        }
    }

    /** Distinct connections a preview keeps (each a few hundred bytes): spoofed sources cannot exhaust memory. */
    private static final int MAX_CONNECTIONS = 200_000;

    /** Counts the flow's connection; false when it is a new one beyond the bound. */
    private static boolean judge(Flow flow, Map<String, Cluster.Pod> pods, Map<String, long[]> connections,
            Map<String, String[]> described) {
        if (flow.getIsReply() || (flow.getEventType() != EventType.NEW_CONNECTION && flow.getEventType() != EventType.DROP)) {
            return true;
        }
        int port = dev.weir.common.flow.FlowFilters.destinationPort(flow);
        if (port <= 0) {
            return true;
        }
        String protocol = dev.weir.common.flow.FlowFilters.protocol(flow).toUpperCase(java.util.Locale.ROOT);
        String key = flow.getIp().getSource() + ">" + flow.getIp().getDestination() + ":" + port + "/" + protocol;
        // The sender's egress and the receiver's ingress see one connection: count it at the
        // sender's egress, or at the receiver when the sender is not a pod of the cluster.
        if (!connections.containsKey(key) && connections.size() >= MAX_CONNECTIONS) {
            return false;
        }
        long[] count = connections.computeIfAbsent(key, k -> new long[1]);
        described.putIfAbsent(key, new String[] {flow.getIp().getSource(), flow.getIp().getDestination(),
                Integer.toString(port), protocol});
        if (flow.getTracePoint() == dev.weir.proto.flow.v1.TracePoint.FROM_ENDPOINT
                || !pods.containsKey(flow.getIp().getSource())) {
            count[0]++;
        }
        return true;
    }
}
