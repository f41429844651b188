package dev.weir.policy.service;

import dev.weir.api.policy.PreviewChange;
import dev.weir.api.policy.PreviewResult;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

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
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        Instant since = Instant.now().minus(window);
        Map<String, Cluster.Pod> podsByIp = new HashMap<>();
        cluster.pods().forEach(p -> podsByIp.put(p.ip(), p));
        Map<String, long[]> connections = new LinkedHashMap<>();
        Map<String, String[]> described = new HashMap<>();
        long read = 0;
        boolean truncated = false;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(kafka, "weir-policy-preview-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(p -> query.put(p, since.toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(query);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition p : partitions) {
                OffsetAndTimestamp start = starts.get(p);
                long from = start == null ? ends.get(p) : start.offset();
                consumer.seek(p, from);
                if (from < ends.get(p)) {
                    remaining.put(p, ends.get(p));
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition p = new TopicPartition(record.topic(), record.partition());
                    if (remaining.containsKey(p) && record.offset() + 1 >= remaining.get(p)) {
                        remaining.remove(p);
                    }
                    if (++read > MAX_FLOWS) {
                        truncated = true;
                        remaining.clear();
                        break;
                    }
                    judge(record.value(), podsByIp, connections, described);
                }
            }
            truncated |= !remaining.isEmpty();
        }
        List<PreviewChange> changes = new ArrayList<>();
        for (Map.Entry<String, long[]> c : connections.entrySet()) {
            String[] d = described.get(c.getKey());
            Cluster.Pod source = podsByIp.get(d[0]);
            Cluster.Pod destination = podsByIp.get(d[1]);
            int port = Integer.parseInt(d[2]);
            Protocol protocol = Protocol.valueOf(d[3]);
            boolean before = Verdicts.decide(current, source == null ? null : source.key(), d[0],
                    destination == null ? null : destination.key(), d[1], port, protocol).allowed();
            boolean after = Verdicts.decide(proposed, source == null ? null : source.key(), d[0],
                    destination == null ? null : destination.key(), d[1], port, protocol).allowed();
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
        return new PreviewResult(since, read, connections.size(), changes, truncated);
    }

    private static void judge(byte[] value, Map<String, Cluster.Pod> pods, Map<String, long[]> connections,
            Map<String, String[]> described) {
        Flow flow;
        try {
            flow = Flow.parseFrom(value);
        } catch (Exception e) {
            return; // the relay's and the agent's business; nothing to preview
        }
        if (flow.getIsReply() || (flow.getEventType() != EventType.NEW_CONNECTION && flow.getEventType() != EventType.DROP)) {
            return;
        }
        String protocol;
        int port;
        switch (flow.getL4().getProtocolCase()) {
            case TCP -> {
                protocol = "TCP";
                port = flow.getL4().getTcp().getDestinationPort();
            }
            case UDP -> {
                protocol = "UDP";
                port = flow.getL4().getUdp().getDestinationPort();
            }
            case SCTP -> {
                protocol = "SCTP";
                port = flow.getL4().getSctp().getDestinationPort();
            }
            default -> {
                return;
            }
        }
        if (port == 0) {
            return;
        }
        String key = flow.getIp().getSource() + ">" + flow.getIp().getDestination() + ":" + port + "/" + protocol;
        // The sender's egress and the receiver's ingress see one connection: count it at the
        // sender's egress, or at the receiver when the sender is not a pod of the cluster.
        long[] count = connections.computeIfAbsent(key, k -> new long[1]);
        described.putIfAbsent(key, new String[] {flow.getIp().getSource(), flow.getIp().getDestination(),
                Integer.toString(port), protocol});
        if (flow.getTracePoint() == dev.weir.proto.flow.v1.TracePoint.FROM_ENDPOINT
                || !pods.containsKey(flow.getIp().getSource())) {
            count[0]++;
        }
    }
}
