package dev.weir.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.common.Supervised;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Live flows for every follower at once: one consumer at the head of the flows topic (started
 * with the first follower), each new flow offered to every follower's bounded queue. A follower
 * that falls behind loses flows and is told how many, rather than slowing the others down. The
 * reader is supervised: after a failure (the broker away, a fenced fetch) it starts again with
 * backoff from the offsets it had reached, so followers get late flows rather than none, and the
 * relay's health is DOWN meanwhile.
 */
@Component
public class FlowTail implements HealthIndicator {

    /** One follower's view: new flows, and how many it lost to a full queue. */
    public static final class Follower implements AutoCloseable {
        private final BlockingQueue<Flow> queue = new ArrayBlockingQueue<>(QUEUE);
        private final AtomicLong lost = new AtomicLong();
        private final FlowTail tail;

        private Follower(FlowTail tail) {
            this.tail = tail;
        }

        /** The next flow, or null after the timeout. */
        public Flow next(long timeout, TimeUnit unit) throws InterruptedException {
            return queue.poll(timeout, unit);
        }

        /** Flows the caller could not pass on (its client reads too slowly), to be reported as lost. */
        public void countLost(long n) {
            lost.addAndGet(n);
            tail.lostForFollowers.addAndGet(n);
        }

        /** Flows lost since the last call. */
        public long takeLost() {
            return lost.getAndSet(0);
        }

        @Override
        public void close() {
            tail.followers.remove(this);
        }
    }

    private static final int QUEUE = 8192;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FlowTail.class);

    private final dev.weir.common.kafka.KafkaConnection kafka;
    private final String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
    private final List<Follower> followers = new CopyOnWriteArrayList<>();
    private final AtomicLong seen = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    private volatile KafkaConsumer<String, byte[]> consumer;
    /** Where the reader is, per partition: a restarted reader goes on from there, losing nothing. */
    private final java.util.Map<TopicPartition, Long> next = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Supervised reader;
    private CountDownLatch positionedOnce;
    /** The offsets a restart resumed from: a restart that finds them unchanged skips to the head. */
    private java.util.Map<TopicPartition, Long> resumedFrom = java.util.Map.of();

    public FlowTail(RelayApplication.RelayProperties properties) {
        this.kafka = properties.kafka();
    }

    /** Followers at once, at most: each holds a thread and a queue. */
    static final int MAX_FOLLOWERS = 256;

    /** Thrown when MAX_FOLLOWERS already follow. */
    public static final class TooManyFollowers extends RuntimeException {
        TooManyFollowers() {
            super(MAX_FOLLOWERS + " clients already follow the flows; try again later");
        }
    }

    public Follower follow() {
        CountDownLatch positioned;
        Follower follower;
        synchronized (this) {
            if (followers.size() >= MAX_FOLLOWERS) {
                throw new TooManyFollowers();
            }
            follower = new Follower(this);
            followers.add(follower);
            positioned = start();
        }
        try { // the first follower sees everything published after it asked; not under the lock
            positioned.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return follower;
    }

    /** Flows a follower could not take (its queue full: its client reads too slowly), in all. */
    private final AtomicLong lostForFollowers = new AtomicLong();

    public long lostForFollowers() {
        return lostForFollowers.get();
    }

    public int followers() {
        return followers.size();
    }

    /** Flows read at the head since the relay started (while anyone followed). */
    public long seen() {
        return seen.get();
    }

    public long undecodable() {
        return undecodable.get();
    }

    @Override
    public Health health() {
        return (healthy() ? Health.up() : Health.down()).withDetail("tailRestarts", restarts())
                .withDetail("followers", followers.size()).build();
    }

    /** True unless the reader failed and waits to be started again. */
    public boolean healthy() {
        Supervised r = reader;
        return r == null || r.healthy();
    }

    /** How often the reader failed and was started again (from where it was). */
    public long restarts() {
        Supervised r = reader;
        return r == null ? 0 : r.restarts();
    }

    /** Starts the reader once; the latch opens when it is positioned at the head (or gave up). */
    private CountDownLatch start() {
        if (reader == null) {
            positionedOnce = new CountDownLatch(1);
            CountDownLatch latch = positionedOnce;
            reader = new Supervised("weir-relay-tail", control -> read(control, latch)).start();
        }
        return positionedOnce;
    }

    private void read(Supervised.Control control, CountDownLatch positioned) {
        if (!next.isEmpty() && next.equals(resumedFrom)) {
            // No progress since the last restart (a batch that cannot be read, say): go on from the head.
            next.clear();
        }
        resumedFrom = java.util.Map.copyOf(next);
        java.util.Map<String, Object> config = TopicReaders.config(kafka, "weir-relay-tail");
        // A resumed offset the topic no longer holds goes to the head, not to a replay of all it retains.
        config.put(org.apache.kafka.clients.consumer.ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(config)) {
            consumer = c;
            List<TopicPartition> partitions = TopicReaders.assignAll(c, topic);
            c.seekToEnd(partitions);
            for (TopicPartition partition : partitions) {
                Long from = next.get(partition);
                if (from != null) {
                    c.seek(partition, from); // a restart: on from the last flow handed out
                }
                next.put(partition, c.position(partition)); // resolve the end now, not at the first poll
            }
            positioned.countDown();
            while (control.running()) {
                for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(100))) {
                    seen.incrementAndGet();
                    next.put(new TopicPartition(record.topic(), record.partition()), record.offset() + 1);
                    Flow flow;
                    try {
                        flow = Flow.parseFrom(record.value());
                    } catch (InvalidProtocolBufferException | NullPointerException e) {
                        undecodable.incrementAndGet();
                        continue;
                    }
                    for (Follower f : followers) {
                        if (!f.queue.offer(flow)) {
                            f.lost.incrementAndGet();
                            lostForFollowers.incrementAndGet();
                        }
                    }
                }
            }
        } finally {
            consumer = null;
            positioned.countDown(); // a follower waits for the head or for this failure, not 30 s
        }
    }

    @PreDestroy
    public void close() {
        Supervised r = reader;
        if (r != null) {
            try {
                r.finish(Duration.ofSeconds(5)); // the reader sees it at its next poll (100 ms)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
