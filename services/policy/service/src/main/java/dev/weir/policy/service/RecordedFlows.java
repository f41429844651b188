package dev.weir.policy.service;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.KafkaConnection;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the recorded flows of a time range from the flows topic, by record timestamp: from the
 * first offset at or after the range's start to the partitions' ends as they were when the read
 * began, bounded in flows and in time. A record that is no flow is counted and skipped (the
 * relay's and the agent's business), never a reason to stop.
 */
final class RecordedFlows {

    /** What a read covered: flows handed over, records skipped, and whether a bound cut it short. */
    record Read(Instant since, Instant until, long flows, long undecodable, boolean truncated) {
    }

    private RecordedFlows() {
    }

    static Read read(KafkaConnection kafka, Instant since, Instant until, long maxFlows, Duration maxTime,
            Consumer<Flow> sink) {
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        long flows = 0;
        long undecodable = 0;
        boolean truncated = false;
        Map<String, Object> config = KafkaClients.consumerConfig(kafka, "weir-policy-replay-" + UUID.randomUUID());
        config.put("max.poll.records", 5_000);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(p -> query.put(p, since.toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(query);
            // To the ends as they are now: producers' clocks differ (a node's may run ahead), so a
            // record timestamped past the range says nothing about the records after it.
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition p : partitions) {
                OffsetAndTimestamp start = starts.get(p);
                long from = start == null ? ends.get(p) : start.offset();
                consumer.seek(p, from);
                if (from < ends.get(p)) {
                    remaining.put(p, ends.get(p));
                } else {
                    consumer.pause(List.of(p));
                }
            }
            long deadline = System.nanoTime() + maxTime.toNanos();
            long untilMillis = until.toEpochMilli();
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition p = new TopicPartition(record.topic(), record.partition());
                    Long end = remaining.get(p);
                    if (end == null || record.offset() >= end) {
                        continue; // written after the read began
                    }
                    if (record.timestamp() < since.toEpochMilli() || record.timestamp() >= untilMillis) {
                        continue;
                    }
                    if (record.value() == null) {
                        undecodable++;
                        continue;
                    }
                    if (flows >= maxFlows) {
                        truncated = true;
                        remaining.clear();
                        break;
                    }
                    Flow flow;
                    try {
                        flow = Flow.parseFrom(record.value());
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        undecodable++;
                        continue;
                    }
                    flows++;
                    sink.accept(flow);
                }
                // Done with a partition once its position is at the end: offsets may have gaps
                // (transaction markers, compaction), so the last record need not be end - 1.
                for (TopicPartition p : List.copyOf(remaining.keySet())) {
                    if (consumer.position(p) >= remaining.get(p)) {
                        remaining.remove(p);
                        consumer.pause(List.of(p));
                    }
                }
            }
            truncated |= !remaining.isEmpty();
        }
        return new Read(since, until, flows, undecodable, truncated);
    }
}
