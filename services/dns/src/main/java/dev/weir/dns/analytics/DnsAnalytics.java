package dev.weir.dns.analytics;

import dev.weir.dns.DnsServiceProperties;
import dev.weir.schemas.TopicCatalogue;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Runs the DNS analytics topology with exactly-once processing: each task's state changes, its
 * outputs and its input offsets commit in one transaction, so an instance killed at any point
 * leaves nothing counted twice when its partitions move to another instance or it comes back.
 * Instances with the same application id split the partitions between them.
 */
@Component
public class DnsAnalytics implements HealthIndicator {

    private static final Logger LOG = LoggerFactory.getLogger(DnsAnalytics.class);

    private final KafkaStreams streams;
    private final KafkaStreamsMetrics metrics;
    private final io.micrometer.core.instrument.Counter replacedThreads;

    public DnsAnalytics(DnsServiceProperties properties, MeterRegistry registry) throws IOException {
        Path stateDir = properties.dns().stateDir() != null ? properties.dns().stateDir()
                : Files.createTempDirectory("weir-dns-");
        this.streams = new KafkaStreams(DnsTopology.build(TopicCatalogue.standard(), properties.dns().settings()),
                config(properties.kafka(), stateDir, properties.dns().streamThreads()));
        this.replacedThreads = io.micrometer.core.instrument.Counter.builder("weir.dns.stream.threads.replaced")
                .description("DNS analytics stream threads that failed and were replaced (their tasks resume from "
                        + "the last committed transaction)").register(registry);
        streams.setUncaughtExceptionHandler(e -> {
            replacedThreads.increment();
            LOG.error("the DNS analytics stream thread failed; replacing it", e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                    .REPLACE_THREAD;
        });
        this.metrics = new KafkaStreamsMetrics(streams);
        metrics.bindTo(registry);
        streams.start();
    }

    /** The Streams settings of every instance (the benchmark runs with the same). */
    public static Properties config(dev.weir.common.kafka.KafkaConnection kafka, Path stateDir, int threads) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, DnsTopology.GROUP);
        props.putAll(kafka.clientProperties());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        // Each commit is a transaction; every 300 ms rather than Streams' 100 ms. At 100 ms a task
        // catching up with a backlog here saw its transactional requests hang for their 60 s timeout
        // (DnsThroughputBenchmark); 300 ms keeps detection under a second (two commits: one per hop).
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 300);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        // Another instance takes over a dead one's partitions after this long without heartbeats.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        return props;
    }

    /** Tasks this instance runs; instances of one application id split them. */
    public int activeTasks() {
        return streams.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public Health health() {
        KafkaStreams.State state = streams.state();
        return (state.isRunningOrRebalancing() ? Health.up() : Health.down()).withDetail("streams", state.name())
                .withDetail("replacedThreads", (long) replacedThreads.count()).build();
    }

    @PreDestroy
    void close() {
        metrics.close();
        streams.close(Duration.ofSeconds(10));
    }
}
