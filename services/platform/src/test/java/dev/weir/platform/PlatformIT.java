package dev.weir.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.common.kafka.DeadLetter;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.ProtoConsumer;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import dev.weir.schemas.TopicSpec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded platform, started once for this class on free ports, and the contracts on it. */
class PlatformIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static Platform platform;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "it-platform-" + UUID.randomUUID()).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        producer = new KafkaProducer<>(KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "platform-it"));
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void aFlowWrittenToTheFlowsTopicIsReadBackEqual() throws Exception {
        Flow flow = Flows.denied("node-roundtrip", 1);
        String topic = CATALOGUE.name(TopicId.FLOWS);
        producer.send(new ProducerRecord<>(topic, flow.getNodeName(), flow.toByteArray())).get(30, TimeUnit.SECONDS);

        List<Flow> read = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "roundtrip-" + UUID.randomUUID()))) {
            consumer.subscribe(List.of(topic));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (!flow.getNodeName().equals(record.key())) {
                        continue;
                    }
                    Flow parsed = Flow.parseFrom(record.value());
                    if (parsed.getUuid().equals(flow.getUuid())) {
                        read.add(parsed);
                    }
                }
                return !read.isEmpty();
            });
        }
        assertThat(read).containsExactly(flow);
    }

    @Test
    void everyCatalogueTopicExistsWithItsPartitionsAndCleanupPolicy() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.kafkaBootstrapServers()))) {
            Set<String> names = CATALOGUE.all().stream().map(TopicSpec::name).collect(Collectors.toSet());
            Map<String, TopicDescription> descriptions = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
            List<ConfigResource> resources = names.stream()
                    .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
            for (TopicSpec spec : CATALOGUE.all()) {
                assertThat(descriptions.get(spec.name()).partitions()).as(spec.name()).hasSize(spec.partitions());
                Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
                assertThat(config.get("cleanup.policy").value()).as(spec.name()).isEqualTo(spec.cleanup().kafkaValue());
            }
            for (TopicId desiredState : List.of(TopicId.IDENTITIES, TopicId.IPCACHE, TopicId.ENDPOINT_POLICY_STATE,
                    TopicId.ENDPOINTS)) {
                Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, CATALOGUE.name(desiredState)));
                assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
            }
        }
    }

    @Test
    void flywayMigrationsAreApplied() throws Exception {
        try (Connection c = DriverManager.getConnection(platform.jdbcUrl(), platform.databaseUser(),
                platform.databasePassword())) {
            ResultSet history = c.createStatement().executeQuery(
                    "SELECT count(*) FILTER (WHERE success), count(*) FROM policy.flyway_schema_history WHERE version IS NOT NULL");
            history.next();
            assertThat(history.getInt(1)).isPositive().isEqualTo(history.getInt(2));
            ResultSet reserved = c.createStatement().executeQuery(
                    "SELECT id, label_key FROM policy.identity WHERE kind = 'reserved' ORDER BY id");
            List<String> identities = new ArrayList<>();
            while (reserved.next()) {
                identities.add(reserved.getInt(1) + "=" + reserved.getString(2));
            }
            assertThat(identities).startsWith("1=reserved:host", "2=reserved:world");
            ResultSet next = c.createStatement().executeQuery("SELECT nextval('policy.identity_id_seq')");
            next.next();
            assertThat(next.getInt(1)).isGreaterThanOrEqualTo(256);
        }
    }

    @Test
    void aRecordThatIsNotAFlowGoesToTheDeadLetterTopicAndConsumptionCarriesOn() throws Exception {
        String node = "node-dlt-" + UUID.randomUUID();
        String topic = CATALOGUE.name(TopicId.FLOWS);
        // A truncated varint: no protobuf parser can read this as a message.
        byte[] garbage = {0x08, (byte) 0x80};
        producer.send(new ProducerRecord<>(topic, node, Flows.denied(node, 1).toByteArray())).get();
        producer.send(new ProducerRecord<>(topic, node, garbage)).get();
        producer.send(new ProducerRecord<>(topic, node, Flows.denied(node, 2).toByteArray())).get();

        String group = "dlt-test-" + UUID.randomUUID();
        List<Flow> handled = Collections.synchronizedList(new ArrayList<>());
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), group));
        ProtoConsumer<Flow> flows = new ProtoConsumer<>(CATALOGUE, TopicId.FLOWS, group, consumer, producer,
                (record, flow) -> {
                    if (flow.getNodeName().equals(node)) {
                        handled.add(flow);
                    }
                });
        Thread thread = new Thread(flows, "flows-consumer");
        thread.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == 2);
            assertThat(handled).extracting(Flow::getNodeSequence).containsExactly(1L, 2L);
            assertThat(flows.deadLetteredCount()).isEqualTo(1);

            ConsumerRecord<String, byte[]> dead = readDeadLetter(node);
            assertThat(dead.value()).isEqualTo(garbage);
            assertThat(DeadLetter.header(dead.headers(), DeadLetter.REASON))
                    .startsWith("not a valid weir.flow.v1.Flow:");
            assertThat(DeadLetter.header(dead.headers(), DeadLetter.ORIGINAL_TOPIC)).isEqualTo(topic);
            assertThat(DeadLetter.header(dead.headers(), DeadLetter.CONSUMER_GROUP)).isEqualTo(group);

            // Offsets are committed once the work is done: the group has consumed past all three.
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.kafkaBootstrapServers()))) {
                TopicPartition partition = new TopicPartition(topic, dead.headers().lastHeader(DeadLetter.ORIGINAL_PARTITION) == null
                        ? 0 : Integer.parseInt(DeadLetter.header(dead.headers(), DeadLetter.ORIGINAL_PARTITION)));
                long deadOffset = Long.parseLong(DeadLetter.header(dead.headers(), DeadLetter.ORIGINAL_OFFSET));
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                            .get().get(partition);
                    assertThat(committed).isNotNull();
                    assertThat(committed.offset()).isGreaterThan(deadOffset + 1);
                });
            }
        } finally {
            flows.close();
            thread.join(10_000);
        }
    }

    private ConsumerRecord<String, byte[]> readDeadLetter(String key) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "dlt-reader-" + UUID.randomUUID()))) {
            consumer.subscribe(List.of(CATALOGUE.name(TopicId.DEAD_LETTER)));
            List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (key.equals(r.key())) {
                        found.add(r);
                    }
                });
                return !found.isEmpty();
            });
            assertThat(found).hasSize(1);
            return found.get(0);
        }
    }
}
