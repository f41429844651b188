package dev.weir.alerting;

import com.google.protobuf.util.Timestamps;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.alerting.delivery.AlertingStore;
import dev.weir.alerting.delivery.Deliverer;
import dev.weir.alerting.delivery.Outbox;
import dev.weir.alerting.eval.Alert;
import dev.weir.alerting.eval.Evaluator;
import dev.weir.alerting.eval.Event;
import dev.weir.alerting.eval.Events;
import dev.weir.alerting.notify.Notification;
import dev.weir.alerting.notify.Notifier;
import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.RuleParser;
import dev.weir.common.kafka.DeadLetter;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.proto.alert.v1.AlertStatus;
import dev.weir.proto.alert.v1.Severity;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.state.v1.NodeStatus;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The alerting loop, on one thread: read the streams rules need, feed the evaluator, and at every
 * evaluation interval move alerts on, publish their changes on the alerts topic, hand firing and
 * resolved ones to the notifier, and write the notifications due to the outbox; then commit the
 * offsets read so far (the work for them is done). A record that does not decode goes to the
 * dead-letter topic. Runs as one instance: windows over groups span partitions.
 */
@Component
public class AlertingEngine implements org.springframework.boot.health.contributor.HealthIndicator {

    private static final Logger LOG = LoggerFactory.getLogger(AlertingEngine.class);
    static final String GROUP = "weir-alerting";

    private final AlertingProperties properties;
    private final AlertingStore store;
    private final Outbox outbox;
    private final Deliverer deliverer;
    private final MeterRegistry registry;
    private final TopicCatalogue catalogue = TopicCatalogue.standard();
    private final Evaluator evaluator = new Evaluator();
    private final Notifier notifier = new Notifier();
    private final KafkaProducer<String, byte[]> producer;
    private final AtomicBoolean reload = new AtomicBoolean(true);
    private final AtomicLong events = new AtomicLong();
    private final List<Rule> builtin;
    private final dev.weir.common.Supervised loop = new dev.weir.common.Supervised("weir-alerting-engine", this::consume);

    public AlertingEngine(AlertingProperties properties, AlertingStore store, Outbox outbox, Deliverer deliverer,
            MeterRegistry registry) throws IOException {
        this.properties = properties;
        this.store = store;
        this.outbox = outbox;
        this.deliverer = deliverer;
        this.registry = registry;
        this.producer = new KafkaProducer<>(KafkaClients.producerConfig(properties.kafka(), GROUP));
        try (InputStream in = AlertingEngine.class.getResourceAsStream("/alerting/builtin-rules.yaml")) {
            this.builtin = properties.alerting().builtinRules()
                    ? RuleParser.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)) : List.of();
        }
        deliverer.onReceiverDisabled(name -> reload());
        io.micrometer.core.instrument.Gauge.builder("weir_alerting_outbox_pending", outbox, o -> o.pending())
                .description("Webhook deliveries waiting in the outbox").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("weir_alerting_events", events, AtomicLong::doubleValue)
                .description("Events the rules were evaluated on").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("weir_loop_restarts", loop,
                dev.weir.common.Supervised::restarts).description("Times a background loop failed and was started again")
                .tag("loop", "engine").register(registry);
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        loop.start();
    }

    /** DOWN while the rule loop or the delivery loop is not running (failed, waiting to restart). */
    @Override
    public org.springframework.boot.health.contributor.Health health() {
        var health = loop.healthy() && deliverer.healthy() ? org.springframework.boot.health.contributor.Health.up()
                : org.springframework.boot.health.contributor.Health.down();
        return health.withDetail("engineRestarts", loop.restarts()).withDetail("deliveryRestarts", deliverer.restarts())
                .build();
    }

    /** Rules, receivers, silences or inhibitions changed: take them up at the next evaluation. */
    public void reload() {
        reload.set(true);
    }

    public List<Rule> builtinRules() {
        return builtin;
    }

    public Evaluator evaluator() {
        return evaluator;
    }

    public Notifier notifier() {
        return notifier;
    }

    /** The stored rules, parsed, with the built-in ones they do not replace. */
    public List<Rule> activeRules() {
        Map<String, Rule> rules = new java.util.LinkedHashMap<>();
        builtin.forEach(r -> rules.put(r.name(), r));
        store.rules().forEach((name, document) -> rules.put(name, RuleParser.parse(document).get(0)));
        return List.copyOf(rules.values());
    }

    /**
     * Reads the event topics and evaluates the rules until stopped; a failure (the broker gone
     * past its timeouts, a commit refused, the database away) ends it, and the supervisor starts
     * it again from the last committed offsets.
     */
    private void consume(dev.weir.common.Supervised.Control control) {
        restoreOnce();
        Map<String, Object> config = KafkaClients.consumerConfig(properties.kafka(), GROUP);
        // A first start alerts on what happens from now on, not on a week of history.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(catalogue.name(TopicId.FLOWS), catalogue.name(TopicId.DNS_INSIGHTS),
                    catalogue.name(TopicId.DNS_STATS), catalogue.name(TopicId.NODE_STATUS),
                    catalogue.name(TopicId.STAGED_DROPS)));
            Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
            long lastEvaluation = 0;
            while (control.running()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    long now = System.currentTimeMillis();
                    for (Event event : decode(record)) {
                        evaluator.add(event, now);
                        events.incrementAndGet();
                    }
                    done.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
                }
                long now = System.currentTimeMillis();
                if (now - lastEvaluation >= properties.evaluationInterval().toMillis()) {
                    lastEvaluation = now;
                    evaluate(now);
                    if (!done.isEmpty()) {
                        consumer.commitSync(done);
                        done.clear();
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
            if (control.running()) {
                throw e;
            }
        }
    }

    private void evaluate(long now) {
        if (reload.getAndSet(false)) {
            try {
                evaluator.setRules(activeRules());
                notifier.configure(store.receivers(), store.silences(), store.inhibitions());
            } catch (RuntimeException e) {
                reload.set(true);
                LOG.warn("reloading alerting configuration: {}", e.getMessage());
            }
        }
        List<Alert> changes = evaluator.tick(now);
        if (!changes.isEmpty()) {
            store.saveFiring(evaluator.firing());
        }
        for (Alert alert : changes) {
            producer.send(new ProducerRecord<>(catalogue.name(TopicId.ALERTS), alert.fingerprint(), proto(alert).toByteArray()));
            notifier.accept(alert, now);
            if (alert.status() == Alert.Status.FIRING) {
                io.micrometer.core.instrument.Counter.builder("weir_alerting_alerts_fired")
                        .description("Alerts that started firing, by rule").tag("rule", alert.rule())
                        .register(registry).increment();
            }
        }
        List<Notification> due = notifier.flush(now, evaluator.alerts());
        if (!due.isEmpty()) {
            outbox.add(due, properties.alerting().externalUrl());
            deliverer.wake();
        }
        if (!changes.isEmpty()) {
            producer.flush();
        }
    }

    private volatile boolean restored;

    /** Takes back the alerts that were firing when the service stopped (once; the rules first). */
    private void restoreOnce() {
        if (restored) {
            return;
        }
        try {
            evaluator.setRules(activeRules());
            notifier.configure(store.receivers(), store.silences(), store.inhibitions());
        } catch (dev.weir.alerting.rules.InvalidRule e) {
            // A stored rule or matcher this release refuses: start without taking alerts back rather
            // than not at all (the reload at the first evaluation reports it).
            LOG.error("taking back alerts after the restart: {}", e.getMessage());
            restored = true;
            return;
        }
        long now = System.currentTimeMillis();
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (dev.weir.alerting.eval.Evaluator.Firing alert : store.firing()) {
            if (evaluator.restore(alert, now)) {
                taken.add(alert.fingerprint());
            }
        }
        for (Alert alert : evaluator.alerts()) {
            if (taken.contains(alert.fingerprint())) {
                notifier.restore(alert, now);
            }
        }
        restored = true;
        if (!taken.isEmpty()) {
            LOG.info("took back {} alerts firing before the restart", taken.size());
        }
    }

    private List<Event> decode(ConsumerRecord<String, byte[]> record) {
        try {
            String topic = record.topic();
            if (topic.equals(catalogue.name(TopicId.FLOWS))) {
                return Events.of(Flow.parseFrom(record.value()));
            }
            if (record.value() == null) {
                return List.of(); // a tombstone on a compacted topic
            }
            if (topic.equals(catalogue.name(TopicId.DNS_INSIGHTS))) {
                return List.of(Events.of(DnsInsight.parseFrom(record.value())));
            }
            if (topic.equals(catalogue.name(TopicId.DNS_STATS))) {
                return List.of(Events.of(DnsClientStats.parseFrom(record.value())));
            }
            if (topic.equals(catalogue.name(TopicId.STAGED_DROPS))) {
                return Events.ofStagedDrop(Flow.parseFrom(record.value()));
            }
            return List.of(Events.of(NodeStatus.parseFrom(record.value())));
        } catch (InvalidProtocolBufferException | NullPointerException e) {
            producer.send(DeadLetter.of(record, catalogue.name(TopicId.DEAD_LETTER), GROUP,
                    "not a record of " + record.topic() + ": " + e.getMessage()));
            return List.of();
        }
    }

    static dev.weir.proto.alert.v1.Alert proto(Alert alert) {
        dev.weir.proto.alert.v1.Alert.Builder proto = dev.weir.proto.alert.v1.Alert.newBuilder()
                .setFingerprint(alert.fingerprint()).setRule(alert.rule())
                .setStatus(switch (alert.status()) {
                    case PENDING -> AlertStatus.PENDING;
                    case FIRING -> AlertStatus.FIRING;
                    case RESOLVED -> AlertStatus.RESOLVED;
                })
                .putAllLabels(alert.labels()).putAllAnnotations(alert.annotations())
                .setStartsAt(Timestamps.fromMillis(alert.startsAtMs()))
                .setSeverity(switch (alert.labels().getOrDefault("severity", "")) {
                    case "critical" -> Severity.CRITICAL;
                    case "info" -> Severity.INFO;
                    default -> Severity.WARNING;
                });
        if (alert.endsAtMs() > 0) {
            proto.setEndsAt(Timestamps.fromMillis(alert.endsAtMs()));
        }
        return proto.build();
    }

    @PreDestroy
    void stop() throws InterruptedException {
        loop.stop(Duration.ofSeconds(5));
        producer.close(Duration.ofSeconds(5));
    }

    /** For the API: events read so far. */
    public long eventsRead() {
        return events.get();
    }

}
