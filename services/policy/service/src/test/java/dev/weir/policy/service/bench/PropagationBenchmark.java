package dev.weir.policy.service.bench;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.policy.service.PolicyServiceApplication;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One policy change to map-applied on all nodes: the time from the REST call that changes a
 * policy to the moment every affected endpoint on 100 nodes has acknowledged the new state.
 * The nodes' agents are simulated at the Kafka level: a consumer of the endpoint-policy-state
 * topic that acknowledges each record as soon as it reads it (the real agent's map writes are
 * measured in the datapath benchmarks, its correctness in PolicyServiceIT). 1,000 endpoints,
 * 10 per node; the changed policy selects one pod on every node.
 *
 * <p>usage: PropagationBenchmark [changes]
 */
public final class PropagationBenchmark {

    static final int NODES = 100;
    static final int PODS_PER_NODE = 10;

    public static void main(String[] args) throws Exception {
        int changes = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        Path dir = Path.of("target", "bench-" + UUID.randomUUID()).toAbsolutePath();
        TopicCatalogue catalogue = TopicCatalogue.standard();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                        KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "bench-nodes"))) {
            for (int n = 0; n < NODES; n++) {
                for (int p = 0; p < PODS_PER_NODE; p++) {
                    String node = "node-" + n;
                    Endpoint endpoint = Endpoint.newBuilder().setNodeName(node).setNamespace("ns-" + p)
                            .setPodName("pod-" + n).setEndpointId(p + 1).putLabels("app", "app-" + p)
                            .addIps("198.19." + n + "." + (p + 10)).build();
                    producer.send(new ProducerRecord<>(catalogue.name(TopicId.ENDPOINTS),
                            node + "/ns-" + p + "/pod-" + n, endpoint.toByteArray()));
                }
            }
            producer.flush();
            AtomicBoolean running = new AtomicBoolean(true);
            Thread agents = new Thread(() -> simulateAgents(platform.kafkaBootstrapServers(), catalogue, running),
                    "simulated-agents");
            agents.start();
            ConfigurableApplicationContext service = new SpringApplicationBuilder(PolicyServiceApplication.class)
                    .run(PolicyServiceApplication.arguments(Map.of("server.port", "0",
                            "spring.datasource.url", platform.jdbcUrl() + "?currentSchema=policy",
                            "spring.datasource.username", platform.databaseUser(),
                            "spring.datasource.password", platform.databasePassword(),
                            "weir.kafka-bootstrap", platform.kafkaBootstrapServers(), "weir.kafka-unauthenticated", "true",
                            "weir.api-token-file", platform.apiTokenFile().toString(),
                            "logging.level.dev.weir", "WARN")));
            try {
                String base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1";
                HttpClient http = HttpClient.newHttpClient();
                Thread.sleep(3000); // the first compile publishes every endpoint's state
                long[] latencies = new long[changes];
                for (int i = 0; i < changes; i++) {
                    String policy = """
                            apiVersion: networking.k8s.io/v1
                            kind: NetworkPolicy
                            metadata: {name: web, namespace: ns-0}
                            spec:
                              podSelector: {matchLabels: {app: app-0}}
                              ingress: [{ports: [{port: %d}]}]
                            """.formatted(8000 + i);
                    long start = System.nanoTime();
                    HttpResponse<String> applied = http.send(HttpRequest.newBuilder(URI.create(base + "/policies"))
                            .header("Authorization", "Bearer " + platform.apiToken())
                            .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(policy))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    if (applied.statusCode() != 200) {
                        throw new IllegalStateException(applied.body());
                    }
                    long revision = i + 1;
                    while (true) {
                        HttpResponse<String> status = http.send(HttpRequest.newBuilder(
                                URI.create(base + "/policies/NetworkPolicy/ns-0/web/status"))
                                .header("Authorization", "Bearer " + platform.apiToken()).build(),
                                HttpResponse.BodyHandlers.ofString());
                        String body = status.body();
                        if (body.contains("\"revision\":" + revision + ",") && body.contains("\"endpoints\":" + NODES + ",")
                                && body.contains("\"enforced\":" + NODES + ",")) {
                            break;
                        }
                        if (System.nanoTime() - start > Duration.ofSeconds(30).toNanos()) {
                            throw new IllegalStateException("change " + i + " not enforced within 30 s: " + body);
                        }
                        Thread.sleep(2);
                    }
                    latencies[i] = System.nanoTime() - start;
                }
                Arrays.sort(latencies);
                System.out.printf("policy change to map-applied on all %d nodes (%d endpoints each change), %d changes: "
                        + "p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", NODES, NODES, changes,
                        latencies[changes / 2] / 1e6, latencies[(int) Math.ceil(changes * 0.99) - 1] / 1e6,
                        latencies[changes - 1] / 1e6);
            } finally {
                running.set(false);
                agents.join(5000);
                service.close();
            }
        }
    }

    /** Every node's agent, at the Kafka level: acknowledge each state record as it arrives. */
    static void simulateAgents(String bootstrap, TopicCatalogue catalogue, AtomicBoolean running) {
        String topic = catalogue.name(TopicId.ENDPOINT_POLICY_STATE);
        Map<String, Object> config = KafkaClients.consumerConfig(bootstrap, "bench-agents");
        Map<String, Object> fast = KafkaClients.producerConfig(bootstrap, "bench-acks");
        fast.put("linger.ms", 0);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config);
                KafkaProducer<String, byte[]> acks = new KafkaProducer<>(fast)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running.get()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                    if (record.value() == null) {
                        continue;
                    }
                    EndpointPolicyState state = EndpointPolicyState.parseFrom(record.value());
                    MapApplyAck ack = MapApplyAck.newBuilder().setNodeName(state.getNodeName())
                            .setEndpointId(state.getEndpointId()).setRevision(state.getRevision())
                            .setStatus(AckStatus.APPLIED).setEntriesWritten(state.getEntriesCount()).build();
                    acks.send(new ProducerRecord<>(catalogue.name(TopicId.MAP_ACKS), record.key(), ack.toByteArray()));
                }
                acks.flush();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
