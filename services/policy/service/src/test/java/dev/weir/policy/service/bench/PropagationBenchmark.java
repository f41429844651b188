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
 * 10 per node; the changed policy selects one pod on every node. The end of a change is seen as a
 * user sees it: the policy's status, asked with wait, says every endpoint enforces the revision.
 *
 * <p>usage: PropagationBenchmark [changes]
 */
public final class PropagationBenchmark {

    static final int NODES = 100;
    static final int PODS_PER_NODE = 10;
    static final int WARM_UP = 20;

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
            Phases phases = new Phases(changes);
            Thread agents = new Thread(() -> simulateAgents(platform.kafkaBootstrapServers(), catalogue, running, phases),
                    "simulated-agents");
            agents.start();
            ConfigurableApplicationContext service = new SpringApplicationBuilder(PolicyServiceApplication.class)
                    .run(PolicyServiceApplication.arguments(Map.of("server.port", "0",
                            "spring.datasource.url", platform.jdbcUrl() + "?currentSchema=policy",
                            "spring.datasource.username", platform.databaseUser(),
                            "spring.datasource.password", platform.databasePassword(),
                            "weir.kafka-bootstrap", platform.kafkaBootstrapServers(), "weir.kafka-unauthenticated", "true",
                            "weir.api-token-file", platform.apiTokenFile().toString(),
                            "logging.level.dev.weir", "WARN",
                            "logging.level.dev.weir.policy.service.Reconciler", System.getProperty("bench.compile-log", "WARN"))));
            try {
                String base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1";
                HttpClient http = HttpClient.newHttpClient();
                Thread.sleep(3000); // the first compile publishes every endpoint's state
                // The service's first changes run its code cold (the JIT compiles it as it goes): these
                // are made and not counted, as a service that has run for a while is what is measured.
                for (int w = 0; w < WARM_UP; w++) {
                    change(http, base, platform.apiToken(), 7000 + w, w + 1);
                }
                long[] latencies = new long[changes];
                long[] applied = new long[changes];
                for (int i = 0; i < changes; i++) {
                    long start = System.nanoTime();
                    phases.started[i] = start;
                    applied[i] = change(http, base, platform.apiToken(), 8000 + i, WARM_UP + i + 1) - start;
                    latencies[i] = System.nanoTime() - start;
                }
                phases.report(applied, latencies);
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

    /**
     * One change, as {@code weir policy apply --wait} makes it: the policy applied with a new
     * port, then its status asked with wait, which answers once every endpoint it applies to has
     * acknowledged the revision. Returns when the apply call had returned (System.nanoTime).
     */
    static long change(HttpClient http, String base, String token, int port, long revision) throws Exception {
        String policy = """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: web, namespace: ns-0}
                spec:
                  podSelector: {matchLabels: {app: app-0}}
                  ingress: [{ports: [{port: %d}]}]
                """.formatted(port);
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "/policies"))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(policy))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200 || !response.body().contains("\"revision\":" + revision + ",")) {
            throw new IllegalStateException("revision " + revision + " not applied: " + response.body());
        }
        long applied = System.nanoTime();
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create(base
                + "/policies/NetworkPolicy/ns-0/web/status?wait=30&revision=" + revision))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        String body = status.body();
        if (!body.contains("\"revision\":" + revision + ",") || !body.contains("\"endpoints\":" + NODES + ",")
                || !body.contains("\"enforced\":" + NODES + ",")) {
            throw new IllegalStateException("revision " + revision + " not enforced within 30 s: " + body);
        }
        return applied;
    }

    /**
     * Where a change's time goes: the REST call (stored, compile requested), the states reaching
     * the simulated nodes (compile, publish, delivery: the last of the change's 100 states read),
     * the acks sent (flushed), and the status reporting it (the ack read back, the poll).
     */
    static final class Phases {
        final long[] started;
        final long[] delivered;
        final long[] acked;
        final int[] states;

        Phases(int changes) {
            started = new long[changes];
            delivered = new long[changes];
            acked = new long[changes];
            states = new int[changes];
        }

        /** The change a state belongs to: its port, 8000 + the change's number; -1 for none. */
        synchronized void read(EndpointPolicyState state, long now) {
            int change = change(state);
            if (change >= 0) {
                states[change]++;
                delivered[change] = now;
            }
        }

        synchronized void acked(List<Integer> changes, long now) {
            for (int change : changes) {
                acked[change] = now;
            }
        }

        int change(EndpointPolicyState state) {
            for (var entry : state.getEntriesList()) {
                int change = entry.getPort() - 8000;
                if (change >= 0 && change < started.length) {
                    return change;
                }
            }
            return -1;
        }

        synchronized void report(long[] applied, long[] total) {
            int n = total.length;
            long[] delivery = new long[n];
            long[] ack = new long[n];
            long[] status = new long[n];
            for (int i = 0; i < n; i++) {
                delivery[i] = delivered[i] - started[i] - applied[i];
                ack[i] = acked[i] - delivered[i];
                status[i] = started[i] + total[i] - acked[i];
            }
            System.out.println("where the time goes, p50 / p99 / max (ms):");
            if (Boolean.getBoolean("bench.each")) {
                for (int i = 0; i < n; i++) {
                    System.out.printf("  change %3d: %6.1f %6.1f %6.1f %6.1f%n", i, applied[i] / 1e6, delivery[i] / 1e6,
                            ack[i] / 1e6, status[i] / 1e6);
                }
            }
            line("REST call (stored, compile asked)", applied);
            line("then compile, publish, delivery to the last node", delivery);
            line("then acks sent", ack);
            line("then the ack read back, the status answered", status);
        }

        private static void line(String what, long[] values) {
            long[] sorted = values.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            System.out.printf("  %-50s %7.1f %7.1f %7.1f%n", what, sorted[n / 2] / 1e6,
                    sorted[(int) Math.ceil(n * 0.99) - 1] / 1e6, sorted[n - 1] / 1e6);
        }
    }

    /** Every node's agent, at the Kafka level: acknowledge each state record as it arrives. */
    static void simulateAgents(String bootstrap, TopicCatalogue catalogue, AtomicBoolean running, Phases phases) {
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
                List<Integer> changes = new java.util.ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(20))) {
                    if (record.value() == null) {
                        continue;
                    }
                    EndpointPolicyState state = EndpointPolicyState.parseFrom(record.value());
                    phases.read(state, System.nanoTime());
                    changes.add(phases.change(state));
                    MapApplyAck ack = MapApplyAck.newBuilder().setNodeName(state.getNodeName())
                            .setEndpointId(state.getEndpointId()).setRevision(state.getRevision())
                            .setStatus(AckStatus.APPLIED).setEntriesWritten(state.getEntriesCount()).build();
                    acks.send(new ProducerRecord<>(catalogue.name(TopicId.MAP_ACKS), record.key(), ack.toByteArray()));
                }
                acks.flush();
                phases.acked(changes.stream().filter(c -> c >= 0).distinct().toList(), System.nanoTime());
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
