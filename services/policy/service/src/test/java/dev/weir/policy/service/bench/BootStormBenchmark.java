package dev.weir.policy.service.bench;

import dev.weir.agent.endpoint.NodePods;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.policy.service.kubernetes.ClusterMetadataWatcher;
import dev.weir.proto.state.v1.Pod;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;

/**
 * The CRD/boot storm of the seed talk, measured: N agents starting at once, each needing its
 * node's pods. Baseline: every agent lists and watches pods on the API server (the mock server,
 * CRUD mode: fabric8's stand-in), as an agent that watches the API server itself does. Weir: the
 * policy service's one watcher lists and watches once and publishes on Kafka, and the agents read
 * the pods topic (simulated at the Kafka level: a consumer per agent, the agent's own NodePods
 * filter). Both in one run, on the same machine: the API server's requests are counted on the mock
 * server, and the time until every agent has all its pods is measured.
 *
 * <p>Agents start as fast as {@code concurrency} threads can start them (a machine of 2 cores does
 * not run a thousand at once). Bounded: N agents, each done when it has its pods or after 120 s.
 *
 * <p>usage: BootStormBenchmark [agents, 1000] [pods per node, 5] [concurrency, 32]
 */
public final class BootStormBenchmark {

    /** Stands for spec.nodeName, which the mock server does not filter on. */
    static final String NODE_LABEL = "bench.weir.dev/node";

    public static void main(String[] args) throws Exception {
        int agents = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int podsPerNode = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int concurrency = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        KubernetesMockServer api = dev.weir.policy.service.kubernetes.MockApiServer.start();
        Path dir = Path.of("target", "bench-boot-" + UUID.randomUUID()).toAbsolutePath();
        KubernetesClient client = dev.weir.policy.service.kubernetes.MockApiServer.client(api);
        // Every agent's watch stays open, as an agent's does; they end with the server.
        List<io.fabric8.kubernetes.client.Watch> watches = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            long setup = System.nanoTime();
            for (int n = 0; n < agents; n++) {
                String node = "node-" + n;
                client.nodes().resource(new NodeBuilder().withNewMetadata().withName(node).endMetadata().withNewStatus()
                        .addNewAddress().withType("InternalIP").withAddress("198.18." + (n / 250) + "." + (n % 250 + 1))
                        .endAddress().endStatus().build()).create();
                for (int p = 0; p < podsPerNode; p++) {
                    client.pods().inNamespace("bench").resource(new PodBuilder().withNewMetadata()
                            .withName(node + "-pod-" + p).withNamespace("bench")
                            .withLabels(Map.of("app", "app-" + p, NODE_LABEL, node)).endMetadata()
                            .withNewSpec().withNodeName(node).endSpec().build()).create();
                }
            }
            System.out.printf("cluster: %d nodes, %d pods (made in %.1f s)%n", agents, agents * podsPerNode,
                    (System.nanoTime() - setup) / 1e9);

            // Baseline: one list and one watch per agent on the API server.
            int before = api.getRequestCount();
            long started = System.nanoTime();
            List<Long> baselineDone = runAgents(agents, concurrency, n -> {
                String node = "node-" + n;
                var pods = client.pods().inNamespace("bench").withLabel(NODE_LABEL, node);
                int found = pods.list().getItems().size();
                watches.add(pods.watch(new Watcher<io.fabric8.kubernetes.api.model.Pod>() {
                    @Override
                    public void eventReceived(Action action, io.fabric8.kubernetes.api.model.Pod resource) {
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                    }
                }));
                if (found != podsPerNode) {
                    throw new IllegalStateException(node + " found " + found + " pods");
                }
            });
            double baselineSeconds = (System.nanoTime() - started) / 1e9;
            int baselineRequests = api.getRequestCount() - before;

            // Weir: the one watcher publishes; every agent reads the pods topic.
            before = api.getRequestCount();
            started = System.nanoTime();
            String topic = TopicCatalogue.standard().name(TopicId.PODS);
            ClusterMetadataWatcher watcher = new ClusterMetadataWatcher(client, new KafkaProducer<>(
                    KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "bench-watcher")),
                    TopicCatalogue.standard()).start();
            long total = (long) agents * podsPerNode;
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (endOffsets(platform.kafkaBootstrapServers(), topic) < total && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                double publishedSeconds = (System.nanoTime() - started) / 1e9;
                List<Long> weirDone = runAgents(agents, concurrency, n -> readNodePods(platform.kafkaBootstrapServers(),
                        topic, "node-" + n, podsPerNode));
                double weirSeconds = (System.nanoTime() - started) / 1e9;
                int weirRequests = api.getRequestCount() - before;
                System.out.printf("baseline (a watch per agent): %d API server requests, every agent had its pods "
                        + "after %.1f s (median agent %.0f ms)%n", baselineRequests, baselineSeconds,
                        median(baselineDone) / 1e6);
                System.out.printf("weir (one watch, pods through Kafka): %d API server requests, all pods on Kafka "
                        + "after %.1f s, every agent had its pods after %.1f s (median agent %.0f ms)%n", weirRequests,
                        publishedSeconds, weirSeconds, median(weirDone) / 1e6);
                System.out.printf("API server requests, weir / baseline: %.4f%n", (double) weirRequests / baselineRequests);
            } finally {
                watcher.close();
            }
        } finally {
            // The mock server blocks its event loop on each watch a client closes: end the server first.
            api.destroy();
            client.close();
        }
    }

    interface Agent {
        void start(int n) throws Exception;
    }

    /** Starts the agents on concurrency threads; returns each one's time until it had its pods, in ns. */
    static List<Long> runAgents(int agents, int concurrency, Agent agent) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        try {
            List<Future<Long>> done = new ArrayList<>();
            for (int n = 0; n < agents; n++) {
                int id = n;
                done.add(pool.submit(() -> {
                    long begun = System.nanoTime();
                    agent.start(id);
                    return System.nanoTime() - begun;
                }));
            }
            List<Long> times = new ArrayList<>();
            for (Future<Long> f : done) {
                times.add(f.get(120, TimeUnit.SECONDS));
            }
            return times;
        } finally {
            pool.shutdownNow();
        }
    }

    /** An agent's start at the Kafka level: the pods topic from its beginning to its end, kept for its node. */
    static void readNodePods(String bootstrap, String topic, String node, int expected) {
        NodePods pods = new NodePods(node);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(bootstrap, "bench-agent-" + node))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    try {
                        pods.accept(r.key(), r.value() == null ? null : Pod.parseFrom(r.value()));
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }
        if (pods.size() != expected) {
            throw new IllegalStateException(node + " has " + pods.size() + " of its " + expected + " pods");
        }
    }

    static long endOffsets(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(bootstrap, "bench-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    static double median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Long::compare);
        return sorted.get(sorted.size() / 2);
    }
}
