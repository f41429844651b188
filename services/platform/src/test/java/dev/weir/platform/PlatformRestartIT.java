package dev.weir.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Stopping the platform leaves no process behind; starting it again keeps every record and row. */
class PlatformRestartIT {

    @Test
    void stateSurvivesARestartAndNoProcessOutlivesTheStop() throws Exception {
        Path dir = Path.of("target", "it-restart-" + UUID.randomUUID()).toAbsolutePath();
        PlatformConfig config = PlatformConfig.onFreePorts(dir);
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        Flow flow = Flows.denied("node-restart", 7);

        List<Long> children;
        try (Platform first = new Platform(config).start()) {
            assertThat(first.topicsCreated()).hasSize(TopicCatalogue.standard().all().size());
            assertThat(first.migrationsApplied().get("policy")).isPositive();
            try (var producer = new KafkaProducer<String, byte[]>(
                    KafkaClients.producerConfig(first.kafkaBootstrapServers(), "restart-it"))) {
                producer.send(new ProducerRecord<>(topic, flow.getNodeName(), flow.toByteArray())).get(30, TimeUnit.SECONDS);
            }
            try (Connection c = DriverManager.getConnection(first.jdbcUrl(), first.databaseUser(), first.databasePassword())) {
                c.createStatement().execute(
                        "INSERT INTO policy.policy (kind, namespace, name, revision) VALUES ('NetworkPolicy', 'x', 'kept', 1)");
            }
            children = first.childPids();
            assertThat(children).allMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        }
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList())
                .as("processes left behind after stop").isEmpty();
        assertThat(children).noneMatch(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

        try (Platform second = new Platform(config).start()) {
            assertThat(second.topicsCreated()).isEmpty();
            assertThat(second.migrationsApplied()).containsEntry("policy", 0);
            try (Connection c = DriverManager.getConnection(second.jdbcUrl(), second.databaseUser(), second.databasePassword());
                    ResultSet rs = c.createStatement().executeQuery("SELECT name FROM policy.policy WHERE namespace = 'x'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("kept");
            }
            List<Flow> read = new ArrayList<>();
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                    KafkaClients.consumerConfig(second.kafkaBootstrapServers(), "restart-" + UUID.randomUUID()))) {
                consumer.subscribe(List.of(topic));
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                        try {
                            read.add(Flow.parseFrom(r.value()));
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    });
                    return !read.isEmpty();
                });
            }
            assertThat(read).contains(flow);
        }
    }

    @Test
    void aSecondPlatformOnTheSameDataDirectoryIsRefused() throws Exception {
        Path dir = Path.of("target", "it-lock-" + UUID.randomUUID()).toAbsolutePath();
        try (Platform ignored = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Platform(PlatformConfig.onFreePorts(dir)).start())
                    .hasMessageContaining("another Weir platform is running on " + dir);
        }
    }
}
