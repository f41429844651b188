package dev.weir.policy.service.staged;

import dev.weir.common.Supervised;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.KafkaConnection;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Policy;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Judges the live flows against every staged policy, continuously: a consumer of the flows topic
 * in its own group (instances of the service share the partitions), whose position per
 * partition is kept in PostgreSQL with the counts it produced, moved in one transaction after
 * each poll. A restart resumes where the counts end; an instance that lost a partition to
 * another is fenced off and reads again from the stored position. With nothing staged it reads
 * nothing; once something is, it starts from the earliest staging (or its stored position, if
 * later).
 */
public final class StagedEvaluator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StagedEvaluator.class);
    static final String GROUP = "weir-policy-staged";
    /** With nothing to judge, how long the evaluator waits before it looks again. */
    static final Duration IDLE = Duration.ofSeconds(2);
    /** Would-drop records one batch publishes at most; the rest are counted, not sent. */
    static final int MAX_PUBLISHED_PER_BATCH = 500;

    private final KafkaConnection kafka;
    private final StagedPolicyStore store;
    private final Supplier<Cluster> cluster;
    private final Supplier<List<Policy>> inForce;
    private final LongSupplier compiles;
    private final BiFunction<Cluster, List<Policy>, Compilation> compile;
    private final String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
    private final Counter judged;
    private final Counter undecodable;
    private final Counter fenced;
    private final Counter publishFailures;
    private final String dropsTopic = TopicCatalogue.standard().name(TopicId.STAGED_DROPS);
    private KafkaProducer<String, byte[]> producer;
    private Supervised loop;

    private final java.util.function.BooleanSupplier ready;
    private StagedJudge judge;
    private String judgingVersion = "";
    private long judgingCompiles = -1;
    /** Staged policies that could not be compiled, by id, with the reason: not judged, and said so in their status. */
    private volatile Map<Long, String> failures = Map.of();
    /** Per assigned partition: {the position stored in PostgreSQL (-1: none), the next offset to read}. */
    private final Map<Integer, long[]> positions = new HashMap<>();

    public StagedEvaluator(KafkaConnection kafka, StagedPolicyStore store, Supplier<Cluster> cluster,
            Supplier<List<Policy>> inForce, LongSupplier compiles, BiFunction<Cluster, List<Policy>, Compilation> compile,
            java.util.function.BooleanSupplier ready, MeterRegistry registry) {
        this.ready = ready;
        this.kafka = kafka;
        this.store = store;
        this.cluster = cluster;
        this.inForce = inForce;
        this.compiles = compiles;
        this.compile = compile;
        this.judged = Counter.builder("weir_policy_staged_judged").description("Connections judged against staged policies")
                .register(registry);
        this.undecodable = Counter.builder("weir_policy_staged_undecodable")
                .description("Records of the flows topic the staged evaluator could not decode (skipped)").register(registry);
        this.publishFailures = Counter.builder("weir_policy_staged_publish_failures")
                .description("Would-drop records Kafka refused on the staged-drops topic (the counts in PostgreSQL stand)")
                .register(registry);
        this.fenced = Counter.builder("weir_policy_staged_fenced")
                .description("Batches of staged judgements not written: another instance owns the partition now")
                .register(registry);
    }

    public StagedEvaluator start() {
        loop = new Supervised("weir-policy-staged", this::run).start();
        return this;
    }

    /** Why a staged policy is not judged, when it is not. */
    public Map<Long, String> failures() {
        return failures;
    }

    private void run(Supervised.Control control) throws InterruptedException {
        KafkaConsumer<byte[], byte[]> consumer = null;
        try {
            while (control.running()) {
                refresh();
                if (judge == null || judge.idle()) {
                    if (consumer != null) {
                        consumer.close(Duration.ofSeconds(5));
                        consumer = null;
                        positions.clear();
                    }
                    Thread.sleep(IDLE.toMillis());
                    continue;
                }
                if (consumer == null) {
                    consumer = subscribe();
                }
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                judgeAndRecord(consumer, records);
            }
        } finally {
            if (consumer != null) {
                consumer.close(Duration.ofSeconds(5));
            }
            positions.clear();
        }
    }

    /**
     * Compiles the staged policies again when they or the policies in force changed: looked at
     * before every batch (the staged set by a cheap version query), so that a policy staged now
     * judges the next batch already. Nothing is judged before the service has compiled the
     * policies in force from a complete view: without them every staged policy would be judged
     * alone. A build that fails leaves no judge (nothing is read or committed) until one succeeds.
     */
    private void refresh() {
        if (!ready.getAsBoolean()) {
            judge = null;
            return;
        }
        String version = store.version();
        long compiled = compiles.getAsLong();
        if (judge != null && compiled == judgingCompiles && version.equals(judgingVersion)) {
            return;
        }
        judge = null;
        List<StagedPolicyStore.Staged> staged = store.all();
        StagedJudge built = new StagedJudge(cluster.get(), inForce.get(), staged, compile);
        failures = built.failures();
        judge = built;
        judgingVersion = version;
        judgingCompiles = compiled;
    }

    private KafkaConsumer<byte[], byte[]> subscribe() {
        Map<String, Object> config = KafkaClients.consumerConfig(kafka, GROUP);
        config.put("max.poll.records", 2_000);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                partitions.forEach(p -> positions.remove(p.partition()));
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                position(consumer, partitions);
            }
        });
        return consumer;
    }

    /**
     * Seeks each partition to its stored position, or to the earliest staging's first record when
     * that is later (or nothing is stored): what was written before any policy was staged needs
     * no judging.
     */
    private void position(KafkaConsumer<byte[], byte[]> consumer, Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return;
        }
        Map<Integer, Long> stored = store.offsets();
        Map<TopicPartition, Long> query = new HashMap<>();
        long earliest = judge == null ? System.currentTimeMillis() : Math.min(judge.earliestStagedMillis(), System.currentTimeMillis());
        partitions.forEach(p -> query.put(p, earliest));
        Map<TopicPartition, OffsetAndTimestamp> floors = consumer.offsetsForTimes(query);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        for (TopicPartition p : partitions) {
            OffsetAndTimestamp floor = floors.get(p);
            long from = floor == null ? ends.get(p) : floor.offset();
            Long kept = stored.get(p.partition());
            long next = kept == null ? from : Math.max(kept, from);
            consumer.seek(p, next);
            positions.put(p.partition(), new long[] {kept == null ? -1 : kept, next});
        }
    }

    private void judgeAndRecord(KafkaConsumer<byte[], byte[]> consumer, ConsumerRecords<byte[], byte[]> records) {
        Map<Long, StagedPolicyStore.Tally> tallies = new HashMap<>();
        Map<Integer, long[]> moves = new HashMap<>();
        List<Flow> wouldDrop = new java.util.ArrayList<>();
        long count = 0;
        for (ConsumerRecord<byte[], byte[]> record : records) {
            long[] position = positions.get(record.partition());
            if (position == null) {
                continue; // revoked during the poll
            }
            moves.computeIfAbsent(record.partition(), k -> new long[] {position[0], position[1]})[1] = record.offset() + 1;
            if (record.value() == null) {
                continue;
            }
            Flow flow;
            try {
                flow = Flow.parseFrom(record.value());
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                undecodable.increment();
                continue;
            }
            StagedJudge.Connection connection = judge.connection(flow);
            if (connection != null) {
                List<StagedPolicyStore.Staged> droppedBy = judge.judge(connection, record.timestamp(), tallies);
                if (!droppedBy.isEmpty()) {
                    wouldDrop.add(annotated(flow, droppedBy));
                }
                count++;
            }
        }
        if (moves.isEmpty()) {
            return;
        }
        // Partitions whose stored position is behind where this evaluator began: they move from the stored value.
        try {
            store.record(tallies, moves);
        } catch (StagedPolicyStore.Fenced e) {
            fenced.increment();
            LOG.warn("staged judgements not recorded: {}; reading again from the stored positions", e.getMessage());
            position(consumer, consumer.assignment());
            return;
        }
        moves.forEach((partition, move) -> positions.put(partition, new long[] {move[1], move[1]}));
        judged.increment(count);
        publish(wouldDrop);
    }

    /** The flow as it was, with the staged policies that would drop it. */
    private static Flow annotated(Flow flow, List<StagedPolicyStore.Staged> droppedBy) {
        Flow.Builder b = flow.toBuilder();
        for (StagedPolicyStore.Staged s : droppedBy) {
            b.addStagedDeniedBy(dev.weir.proto.flow.v1.PolicyRef.newBuilder().setKind(s.kind()).setNamespace(s.namespace())
                    .setName(s.name()));
        }
        return b.build();
    }

    /**
     * Says on the staged-drops topic which connections a staged policy would drop, after their
     * counts are recorded (a crash between the two repeats none of the counts, and may lose these
     * records: the counts are the truth). Every send has a callback; failures are counted.
     */
    private void publish(List<Flow> flows) {
        if (flows.isEmpty()) {
            return;
        }
        if (producer == null) {
            Map<String, Object> config = KafkaClients.producerConfig(kafka, "weir-policy-staged");
            // Never held up for long: a missing topic or a full buffer costs records, not the judging.
            config.put("max.block.ms", 1_000);
            producer = new KafkaProducer<>(config);
        }
        if (flows.size() > MAX_PUBLISHED_PER_BATCH) {
            publishFailures.increment(flows.size() - MAX_PUBLISHED_PER_BATCH);
            LOG.warn("{} would-drop records of one batch beyond {} not published (the counts have them)",
                    flows.size() - MAX_PUBLISHED_PER_BATCH, MAX_PUBLISHED_PER_BATCH);
            flows = flows.subList(0, MAX_PUBLISHED_PER_BATCH);
        }
        for (int i = 0; i < flows.size(); i++) {
            Flow flow = flows.get(i);
            try {
                producer.send(new ProducerRecord<>(dropsTopic, flow.getNodeName(), flow.toByteArray()), (metadata, e) -> {
                    if (e != null) {
                        publishFailures.increment();
                    }
                });
            } catch (org.apache.kafka.common.KafkaException e) {
                // Kafka cannot take them now (no topic, a full buffer): the rest of the batch is not tried.
                publishFailures.increment(flows.size() - i);
                LOG.warn("would-drop records not published: {}", e.getMessage());
                return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (loop != null) {
            loop.finish(Duration.ofSeconds(10));
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
