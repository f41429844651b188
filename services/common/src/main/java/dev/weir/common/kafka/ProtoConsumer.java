package dev.weir.common.kafka;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.weir.schemas.ProtoTypes;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import dev.weir.schemas.TopicSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one catalogue topic and hands each decoded record to a handler. A record that does not
 * decode as the topic's message type, or that the handler rejects, goes to the dead-letter topic
 * with the reason, and consumption carries on. Offsets are committed only after every record of a
 * poll was handled or dead-lettered (at-least-once).
 *
 * <p>A tombstone (null value, a deletion on a compacted topic) reaches the handler as a null message.
 *
 * <p>In replay mode (for compacted desired-state topics) the consumer is assigned every partition
 * and reads from the beginning at each start, committing nothing: the latest record per key is
 * the state to converge to, and {@link #caughtUp()} says when the replay reached the end offsets
 * of the start.
 */
public final class ProtoConsumer<M extends Message> implements Runnable, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProtoConsumer.class);

    /** Does the work for one record. Throwing dead-letters the record. */
    @FunctionalInterface
    public interface Handler<M> {
        void handle(ConsumerRecord<String, byte[]> record, M message) throws Exception;
    }

    private final Consumer<String, byte[]> consumer;
    private final Producer<String, byte[]> deadLetterProducer;
    private final String topic;
    private final String deadLetterTopic;
    private final String group;
    private final Parser<M> parser;
    private final Handler<M> handler;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final boolean replay;
    private volatile Map<TopicPartition, Long> replayEnd;
    private final java.util.concurrent.CountDownLatch caughtUp = new java.util.concurrent.CountDownLatch(1);

    /** A consumer in a group that commits its offsets after the work. */
    public ProtoConsumer(TopicCatalogue catalogue, TopicId topicId, String group, Consumer<String, byte[]> consumer,
            Producer<String, byte[]> deadLetterProducer, Handler<M> handler) {
        this(catalogue, topicId, group, consumer, deadLetterProducer, handler, false);
    }

    /** A consumer that replays a compacted topic from the beginning; group names it in dead letters. */
    public static <M extends Message> ProtoConsumer<M> replaying(TopicCatalogue catalogue, TopicId topicId,
            String name, Consumer<String, byte[]> consumer, Producer<String, byte[]> deadLetterProducer,
            Handler<M> handler) {
        return new ProtoConsumer<>(catalogue, topicId, name, consumer, deadLetterProducer, handler, true);
    }

    @SuppressWarnings("unchecked")
    private ProtoConsumer(TopicCatalogue catalogue, TopicId topicId, String group, Consumer<String, byte[]> consumer,
            Producer<String, byte[]> deadLetterProducer, Handler<M> handler, boolean replay) {
        this.replay = replay;
        TopicSpec spec = catalogue.spec(topicId);
        Message type = ProtoTypes.valueType(spec)
                .orElseThrow(() -> new IllegalArgumentException(spec.name() + " carries raw bytes, not a message"));
        this.parser = (Parser<M>) type.getParserForType();
        this.topic = spec.name();
        this.deadLetterTopic = catalogue.name(TopicId.DEAD_LETTER);
        this.group = group;
        this.consumer = consumer;
        this.deadLetterProducer = deadLetterProducer;
        this.handler = handler;
    }

    /** The first pause after a failure; each failure in a row doubles it, up to MAX_BACKOFF. */
    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final AtomicLong restarts = new AtomicLong();
    private volatile boolean healthy = true;
    private volatile String lastFailure = "";
    /** Per partition, the offset after the last record handled: where to resume after a failure. */
    private final Map<TopicPartition, Long> resumeAt = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Consumes until closed. A failure (the topic missing, a dead letter that cannot be written, a
     * commit that fails, the broker away) never ends the loop: it is logged and counted, the
     * consumer is unhealthy while it waits (backing off, doubling up to 30 s), then it goes back to
     * where its work was done and goes on. Records are handled at least once, never skipped.
     */
    @Override
    public void run() {
        Duration backoff = FIRST_BACKOFF;
        boolean started = false;
        try {
            while (running.get()) {
                try {
                    if (!started) {
                        start();
                        started = true;
                    } else {
                        resume();
                    }
                    consume();
                } catch (WakeupException e) {
                    if (running.get()) {
                        fail(e, backoff);
                        backoff = next(backoff);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (RuntimeException e) {
                    fail(e, backoff);
                    backoff = next(backoff);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close();
        }
    }

    private void start() {
        if (replay) {
            List<org.apache.kafka.common.PartitionInfo> infos = consumer.partitionsFor(topic);
            List<TopicPartition> partitions = infos == null ? List.of()
                    : infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                // Not there yet: an empty replay would say "caught up" about a topic never read.
                throw new IllegalStateException("topic " + topic + " does not exist (yet)");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            replayEnd = new HashMap<>(consumer.endOffsets(partitions));
        } else {
            consumer.subscribe(List.of(topic));
            caughtUp.countDown();
        }
    }

    /** Back to where the work was done: the next unhandled record, or the group's committed offset. */
    private void resume() {
        for (TopicPartition partition : consumer.assignment()) {
            Long next = resumeAt.get(partition);
            if (next != null) {
                consumer.seek(partition, next);
            } else if (replay) {
                consumer.seekToBeginning(List.of(partition));
            } else {
                OffsetAndMetadata committed = consumer.committed(java.util.Set.of(partition)).get(partition);
                if (committed != null) {
                    consumer.seek(partition, committed.offset());
                }
            }
        }
    }

    private void consume() throws InterruptedException {
        while (running.get()) {
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
            healthy = true;
            if (!records.isEmpty()) {
                process(records);
            }
            if (caughtUp.getCount() > 0 && replayedToEnd()) {
                caughtUp.countDown();
            }
        }
    }

    private void fail(RuntimeException e, Duration backoff) throws InterruptedException {
        healthy = false;
        lastFailure = e.toString();
        restarts.incrementAndGet();
        LOG.warn("consuming {} failed ({}); going on in {} ms", topic, e.toString(), backoff.toMillis());
        long until = System.nanoTime() + backoff.toNanos();
        while (running.get() && System.nanoTime() < until) {
            Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
        }
    }

    private static Duration next(Duration backoff) {
        Duration doubled = backoff.multipliedBy(2);
        return doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
    }

    /** False while the loop waits after a failure, until its next successful poll. */
    public boolean healthy() {
        return healthy;
    }

    /** Failures the loop went on after. */
    public long restarts() {
        return restarts.get();
    }

    /** The last failure, as text ("" before any). */
    public String lastFailure() {
        return lastFailure;
    }

    public String topic() {
        return topic;
    }

    private boolean replayedToEnd() {
        for (Map.Entry<TopicPartition, Long> end : replayEnd.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Waits until a replaying consumer has read what the topic held when it started. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean caughtUp() {
        return caughtUp.getCount() == 0;
    }

    private void process(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        List<Future<RecordMetadata>> deadLetterSends = new java.util.ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            String failure = handleOne(record);
            if (failure != null) {
                LOG.warn("dead-lettering {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), failure);
                deadLetterSends.add(deadLetterProducer.send(DeadLetter.of(record, deadLetterTopic, group, failure)));
                deadLettered.incrementAndGet();
            } else {
                handled.incrementAndGet();
            }
            done.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
        }
        // A record counts as done only once its dead letter is durable; otherwise the commit
        // would lose it.
        for (Future<RecordMetadata> send : deadLetterSends) {
            try {
                send.get(30, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("could not write to the dead-letter topic; not committing", e);
            }
        }
        if (!replay) {
            consumer.commitSync(done);
        }
        done.forEach((partition, offset) -> resumeAt.put(partition, offset.offset()));
    }

    /** @return null when handled, the reason otherwise */
    private String handleOne(ConsumerRecord<String, byte[]> record) {
        M message = null;
        if (record.value() != null) {
            try {
                message = parser.parseFrom(record.value());
            } catch (InvalidProtocolBufferException e) {
                return "not a valid " + parserTypeName() + ": " + e.getMessage();
            }
        }
        try {
            handler.handle(record, message);
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while handling a record", e);
        } catch (Exception e) {
            return "handler failed: " + e;
        }
    }

    private String parserTypeName() {
        try {
            return parser.parseFrom(new byte[0]).getDescriptorForType().getFullName();
        } catch (InvalidProtocolBufferException e) {
            return "message";
        }
    }

    public long handledCount() {
        return handled.get();
    }

    public long deadLetteredCount() {
        return deadLettered.get();
    }

    /** Stops the loop from another thread; the loop closes the consumer. */
    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
    }
}
