package dev.weir.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.observer.v1.FlowFilter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;

/**
 * One pass over the flows topic between two points in time: every partition from the offset of
 * {@code since} (Kafka's time index) to that of {@code until}, partitions shared among parallel
 * readers (one consumer each), records tested on their bytes before decoding ({@link FlowPrefilter})
 * and then with the filters' full semantics. Matches go to a sink as they are found, in time order
 * within a node (flows are keyed, so partitioned, by node). Bounded in records and in time.
 */
public final class FlowScan {

    /** Where matches go; called from several threads one at a time. Returns false to stop the scan. */
    public interface Sink {
        boolean accept(Flow flow);
    }

    public record Stats(long scanned, long undecodable, boolean truncated) {
    }

    private final dev.weir.common.kafka.KafkaConnection kafka;
    private final String topic;
    private final int readers;
    private final long maxScanned;
    private final Duration maxTime;

    FlowScan(dev.weir.common.kafka.KafkaConnection kafka, String topic, int readers, long maxScanned, Duration maxTime) {
        this.kafka = kafka;
        this.topic = topic;
        this.readers = readers;
        this.maxScanned = maxScanned;
        this.maxTime = maxTime;
    }

    /** Scans at once, at most: each holds its readers' consumers and threads. */
    static final int MAX_CONCURRENT = 4;
    /** How long a query waits for a scan to end before it is told the relay is busy. */
    private static final long QUEUE_WAIT_MS = 2000;
    private final java.util.concurrent.Semaphore concurrent = new java.util.concurrent.Semaphore(MAX_CONCURRENT, true);

    /** Thrown when MAX_CONCURRENT scans run and none ended in time. */
    public static final class Busy extends RuntimeException {
        Busy() {
            super(MAX_CONCURRENT + " history queries are running; try again shortly");
        }
    }

    Stats scan(Instant since, Instant until, List<FlowFilter> whitelist, List<FlowFilter> blacklist, Sink sink) {
        try {
            if (!concurrent.tryAcquire(QUEUE_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new Busy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Busy();
        }
        try {
            return scanNow(since, until, whitelist, blacklist, sink);
        } finally {
            concurrent.release();
        }
    }

    private Stats scanNow(Instant since, Instant until, List<FlowFilter> whitelist, List<FlowFilter> blacklist, Sink sink) {
        Map<TopicPartition, long[]> ranges;
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            ranges = ranges(consumer, since, until);
        }
        List<List<TopicPartition>> shares = new ArrayList<>();
        int n = Math.max(1, Math.min(readers, ranges.size()));
        for (int i = 0; i < n; i++) {
            shares.add(new ArrayList<>());
        }
        int i = 0;
        for (TopicPartition tp : ranges.keySet()) {
            shares.get(i++ % n).add(tp);
        }
        FlowPrefilter prefilter = FlowPrefilter.of(whitelist);
        AtomicLong scanned = new AtomicLong();
        AtomicLong undecodable = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean truncated = new AtomicBoolean();
        long deadline = System.nanoTime() + maxTime.toNanos();
        Object sinkLock = new Object();
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "weir-relay-scan");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> work = new ArrayList<>();
            for (List<TopicPartition> share : shares) {
                if (share.isEmpty()) {
                    continue;
                }
                work.add(pool.submit(() -> {
                    read(share, ranges, prefilter, whitelist, blacklist, flow -> {
                        synchronized (sinkLock) {
                            if (stop.get()) {
                                return false;
                            }
                            if (!sink.accept(flow)) {
                                stop.set(true);
                            }
                            return !stop.get();
                        }
                    }, scanned, undecodable, stop, truncated, deadline);
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop.set(true);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RelayObserver.SlowClient slow) {
                throw slow; // the sink's own refusal, not a failure of the scan
            }
            throw new IllegalStateException("reading the flows topic failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return new Stats(scanned.get(), undecodable.get(), truncated.get());
    }

    private void read(List<TopicPartition> share, Map<TopicPartition, long[]> ranges, FlowPrefilter prefilter,
            List<FlowFilter> whitelist, List<FlowFilter> blacklist, Sink sink, AtomicLong scanned,
            AtomicLong undecodable, AtomicBoolean stop, AtomicBoolean truncated, long deadline) {
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            consumer.assign(share);
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition tp : share) {
                consumer.seek(tp, ranges.get(tp)[0]);
                remaining.put(tp, ranges.get(tp)[1]);
            }
            while (!remaining.isEmpty() && !stop.get()) {
                if (scanned.get() >= maxScanned || System.nanoTime() > deadline) {
                    truncated.set(true);
                    stop.set(true);
                    break;
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    Long end = remaining.get(tp);
                    if (end == null || record.offset() >= end) {
                        continue;
                    }
                    scanned.incrementAndGet();
                    if (record.offset() + 1 >= end) {
                        remaining.remove(tp);
                        consumer.pause(List.of(tp));
                    }
                    byte[] value = record.value();
                    if (value == null || !prefilter.mayMatch(value)) {
                        if (value == null) {
                            undecodable.incrementAndGet();
                        }
                        continue;
                    }
                    Flow flow;
                    try {
                        flow = Flow.parseFrom(value);
                    } catch (InvalidProtocolBufferException e) {
                        undecodable.incrementAndGet();
                        continue;
                    }
                    if (FlowFilters.passes(flow, whitelist, blacklist) && !sink.accept(flow)) {
                        return;
                    }
                }
            }
        }
    }

    /** Per partition with anything between since and until: [start offset, end offset). */
    private Map<TopicPartition, long[]> ranges(KafkaConsumer<String, byte[]> consumer, Instant since, Instant until) {
        List<TopicPartition> partitions = TopicReaders.partitions(consumer, topic);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        Map<TopicPartition, Long> start = at(consumer, partitions, since, consumer.beginningOffsets(partitions), ends);
        Map<TopicPartition, Long> end = at(consumer, partitions, until, ends, ends);
        Map<TopicPartition, long[]> ranges = new java.util.TreeMap<>(
                java.util.Comparator.comparingInt(TopicPartition::partition));
        for (TopicPartition tp : partitions) {
            if (start.get(tp) < end.get(tp)) {
                ranges.put(tp, new long[] {start.get(tp), end.get(tp)});
            }
        }
        return ranges;
    }

    private static Map<TopicPartition, Long> at(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> partitions,
            Instant instant, Map<TopicPartition, Long> otherwise, Map<TopicPartition, Long> ends) {
        Map<TopicPartition, Long> result = new HashMap<>(otherwise);
        if (instant != null) {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, instant.toEpochMilli()));
            for (Map.Entry<TopicPartition, OffsetAndTimestamp> e : consumer.offsetsForTimes(query).entrySet()) {
                result.put(e.getKey(), e.getValue() == null ? ends.get(e.getKey()) : e.getValue().offset());
            }
        }
        return result;
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = TopicReaders.config(kafka, "weir-relay-query");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024);
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
        return new KafkaConsumer<>(config);
    }
}
