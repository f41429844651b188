package dev.weir.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.common.flow.FlowFilters;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.observer.v1.FlowFilter;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.springframework.stereotype.Component;

/**
 * The cluster's flow history, read back from the flows topic: every partition from the offset of
 * {@code since} (Kafka's time index) to that of {@code until}, filtered with Hubble's semantics,
 * keeping the first or the last N by flow time. Bounded in records scanned and in time, and says
 * when it stopped early. Flows that do not decode are skipped and counted.
 */
@Component
public class FlowHistory {

    /** The answer: flows in time order, and how the scan went. */
    public record Result(List<Flow> flows, long scanned, long undecodable, boolean truncated) {
    }

    private static final long MAX_SCANNED = 20_000_000;
    private static final Duration MAX_TIME = Duration.ofSeconds(30);

    private final String bootstrap;
    private final String topic = TopicCatalogue.standard().name(TopicId.FLOWS);

    public FlowHistory(RelayApplication.RelayProperties properties) {
        this.bootstrap = properties.kafkaBootstrap();
    }

    public Result query(Instant since, Instant until, List<FlowFilter> whitelist, List<FlowFilter> blacklist, int limit,
            boolean first) {
        Map<String, Object> config = KafkaClients.consumerConfig(bootstrap, "weir-relay-query");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned partitions, no group, nothing committed
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> start = offsets(consumer, partitions, since, true);
            Map<TopicPartition, Long> end = offsets(consumer, partitions, until, false);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition tp : partitions) {
                if (start.get(tp) < end.get(tp)) {
                    consumer.seek(tp, start.get(tp));
                    remaining.put(tp, end.get(tp));
                }
            }
            consumer.pause(partitions.stream().filter(tp -> !remaining.containsKey(tp)).toList());
            Comparator<Flow> byTime = Comparator.comparingLong((Flow f) -> f.getTime().getSeconds())
                    .thenComparingInt(f -> f.getTime().getNanos());
            // last N: a min-heap of the newest; first N: a max-heap of the oldest
            PriorityQueue<Flow> kept = new PriorityQueue<>(first ? byTime.reversed() : byTime);
            long scanned = 0;
            long undecodable = 0;
            long deadline = System.nanoTime() + MAX_TIME.toNanos();
            boolean truncated = false;
            while (!remaining.isEmpty()) {
                if (scanned >= MAX_SCANNED || System.nanoTime() > deadline) {
                    truncated = true;
                    break;
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    Long stop = remaining.get(tp);
                    if (stop == null || record.offset() >= stop) {
                        continue;
                    }
                    scanned++;
                    if (record.offset() + 1 >= stop) {
                        remaining.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                    Flow flow;
                    try {
                        flow = Flow.parseFrom(record.value());
                    } catch (InvalidProtocolBufferException | NullPointerException e) {
                        undecodable++;
                        continue;
                    }
                    if (FlowFilters.passes(flow, whitelist, blacklist)) {
                        kept.add(flow);
                        if (kept.size() > limit) {
                            kept.poll();
                        }
                    }
                }
            }
            List<Flow> flows = new ArrayList<>(kept);
            flows.sort(byTime);
            return new Result(flows, scanned, undecodable, truncated);
        }
    }

    private static Map<TopicPartition, Long> offsets(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions,
            Instant at, boolean start) {
        Map<TopicPartition, Long> result = new HashMap<>(start ? consumer.beginningOffsets(partitions)
                : consumer.endOffsets(partitions));
        if (at != null) {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, at.toEpochMilli()));
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            for (Map.Entry<TopicPartition, OffsetAndTimestamp> e : consumer.offsetsForTimes(query).entrySet()) {
                result.put(e.getKey(), e.getValue() == null ? ends.get(e.getKey()) : e.getValue().offset());
            }
        }
        return result;
    }

}
