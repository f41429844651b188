package dev.weir.policy.service;

import dev.weir.api.policy.SuggestResult;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.KafkaConnection;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.service.staged.StagedJudge;
import dev.weir.policy.service.staged.StagedPolicyStore;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Suggest and staged evaluation over flows in a real broker, against a baseline measured in the
 * same run: the same reader of the same time range that only decodes each flow. One hour of
 * flows shaped as agents write them (both sightings of each connection, labels, workloads) among
 * 1,000 pods of 100 workloads in 20 namespaces, with DNS to the resolver and calls outside.
 *
 * <p>{@code java -cp ... dev.weir.policy.service.SuggestAndStagedBenchmark [flows] [staged policies]}
 */
public final class SuggestAndStagedBenchmark {

    private static final int WORKLOADS = 100;
    private static final int PODS_PER_WORKLOAD = 10;

    public static void main(String[] args) throws Exception {
        int flows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int stagedCount = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path dir = Path.of("target", "bench-suggest-" + System.nanoTime()).toAbsolutePath();
        Cluster cluster = cluster();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            KafkaConnection kafka = KafkaConnection.unauthenticated(platform.kafkaBootstrapServers());
            Instant until = Instant.now();
            Instant since = until.minus(Duration.ofHours(1));
            produce(platform.kafkaBootstrapServers(), cluster, flows, since);
            for (int round = 0; round < 2; round++) {
                System.out.printf("round %d (the first warms the JIT)%n", round + 1);
                // Baseline: the same range, read and decoded, nothing else.
                long[] decoded = new long[1];
                long start = System.nanoTime();
                RecordedFlows.Read read = RecordedFlows.read(kafka, since, until.plusSeconds(1), 2_000_000, Duration.ofMinutes(5),
                        f -> decoded[0] += f.getNodeSequence() >= 0 ? 1 : 0);
                double baseline = seconds(start);
                System.out.printf("  baseline (read + decode): %,d flows in %.2f s, %,.0f flows/s%n", read.flows(), baseline,
                        read.flows() / baseline);

                Identity.Allocator allocator = new Identity.LocalAllocator();
                // The answers agents observed for the name the pods call outside (toFQDNs allows what they answered).
                Map<String, java.util.Set<String>> answers = Map.of("api.example.test",
                        java.util.Set.of("198.19.7.1", "198.19.7.2", "198.19.7.3", "198.19.7.4"));
                BiFunction<Cluster, List<Policy>, Compilation> compile = (c, p) -> PolicyCompiler.compile(c, p, allocator,
                        Map.of(), answers);
                start = System.nanoTime();
                SuggestResult result = PolicySuggestions.suggest(kafka, since, until.plusSeconds(1), cluster, null, List.of(),
                        compile);
                double suggest = seconds(start);
                long drops = result.preview().changes().stream().filter(c -> c.after().equals("DROPPED")).count();
                System.out.printf("  suggest: %,d flows, %d policies, %d connections previewed, %d would drop, in %.2f s "
                        + "(%.2f of the baseline's rate)%n", result.flowsRead(), result.policies().size(),
                        result.preview().connectionsJudged(), drops, suggest, baseline / suggest);

                List<StagedPolicyStore.Staged> staged = new ArrayList<>();
                List<PolicyParser.Parsed> suggested = PolicyParser.parseWithSource(result.document());
                for (int s = 0; s < stagedCount; s++) {
                    Policy p = suggested.get(s).policy();
                    String json = suggested.get(s).json();
                    staged.add(new StagedPolicyStore.Staged(s + 1, p.kind(), p.namespace(), p.name(), json, "bench", since, 0, 0));
                }
                start = System.nanoTime();
                StagedJudge judge = new StagedJudge(cluster, List.of(), staged, compile);
                double compiled = seconds(start);
                Map<Long, StagedPolicyStore.Tally> tallies = new HashMap<>();
                long[] judged = new long[1];
                start = System.nanoTime();
                RecordedFlows.Read staging = RecordedFlows.read(kafka, since, until.plusSeconds(1), 2_000_000,
                        Duration.ofMinutes(5), f -> {
                            StagedJudge.Connection c = judge.connection(f);
                            if (c != null) {
                                judge.judge(c, since.toEpochMilli(), tallies);
                                judged[0]++;
                            }
                        });
                double evaluation = seconds(start);
                long wouldDrop = tallies.values().stream().flatMap(t -> t.drops().values().stream()).mapToLong(v -> v[0]).sum();
                System.out.printf("  staged evaluation, %d staged policies (compiled in %.2f s): %,d flows (%,d connections "
                        + "judged, %d would drop) in %.2f s, %,.0f flows/s, %.2f of the baseline%n", stagedCount, compiled,
                        staging.flows(), judged[0], wouldDrop, evaluation, staging.flows() / evaluation, baseline / evaluation);
            }
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    record Pod(String namespace, String name, String workload, String ip, Map<String, String> labels) {
        Endpoint endpoint() {
            Endpoint.Builder e = Endpoint.newBuilder().setNamespace(namespace).setPodName(name).setIdentity(300)
                    .addWorkloads(Workload.newBuilder().setName(workload).setKind("Deployment"));
            labels.forEach((k, v) -> e.addLabels(k + "=" + v));
            return e.build();
        }
    }

    private static final List<Pod> PODS = new ArrayList<>();

    static Cluster cluster() {
        Cluster cluster = new Cluster().node("node-1", List.of("198.18.250.1"));
        cluster.pod(new Cluster.Pod("kube-system", "coredns-1", Map.of("k8s-app", "kube-dns"), "198.18.0.53", List.of(), "node-1", 1));
        for (int w = 0; w < WORKLOADS; w++) {
            for (int p = 0; p < PODS_PER_WORKLOAD; p++) {
                int n = w * PODS_PER_WORKLOAD + p;
                Pod pod = new Pod("ns-" + (w % 20), "app-" + w + "-" + p, "app-" + w, "198.18." + (1 + n / 250) + "." + (n % 250 + 1),
                        Map.of("app", "app-" + w, "pod-template-hash", "h" + p));
                PODS.add(pod);
                cluster.pod(new Cluster.Pod(pod.namespace(), pod.name(), pod.labels(), pod.ip(),
                        List.of(new Cluster.ContainerPort("http", 8080, Protocol.TCP)), "node-" + (n % 10), n + 1));
            }
        }
        return cluster;
    }

    /** Each pod calls three other workloads on 8080, the resolver on 53/UDP, and one address outside. */
    static void produce(String bootstrap, Cluster cluster, int flows, Instant since) throws Exception {
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        Pod resolver = new Pod("kube-system", "coredns-1", "coredns", "198.18.0.53", Map.of("k8s-app", "kube-dns"));
        long step = Duration.ofHours(1).toMillis() * 1000 / flows; // microseconds between flows
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producerConfig(bootstrap, "bench"))) {
            int i = 0;
            while (i < flows) {
                Pod from = PODS.get((i / 10) % PODS.size());
                int choice = (i / 2) % 5;
                Flow.Builder flow = Flow.newBuilder().setEventType(EventType.NEW_CONNECTION).setVerdict(Verdict.FORWARDED)
                        .setNodeName("node-1").setUuid(java.util.UUID.randomUUID().toString()).setSource(from.endpoint())
                        .setSummary("TCP Flags: SYN");
                String toIp;
                int port;
                boolean udp = false;
                if (choice < 3) {
                    int w = (from.workload().hashCode() & 0x7fffffff) % WORKLOADS;
                    Pod to = PODS.get(((w + choice + 1) % WORKLOADS) * PODS_PER_WORKLOAD + (i % PODS_PER_WORKLOAD));
                    flow.setDestination(to.endpoint());
                    toIp = to.ip();
                    port = 8080;
                } else if (choice == 3) {
                    flow.setDestination(resolver.endpoint());
                    toIp = resolver.ip();
                    port = 53;
                    udp = true;
                } else {
                    flow.setDestination(Endpoint.newBuilder().setIdentity(Identity.WORLD)).addDestinationNames("api.example.test.");
                    toIp = "198.19.7." + (i % 4 + 1);
                    port = 443;
                }
                flow.setIp(dev.weir.proto.flow.v1.IP.newBuilder().setSource(from.ip()).setDestination(toIp));
                flow.setL4(udp ? Layer4.newBuilder().setUdp(dev.weir.proto.flow.v1.UDP.newBuilder().setSourcePort(40000 + i % 20000)
                        .setDestinationPort(port)).build()
                        : Layer4.newBuilder().setTcp(dev.weir.proto.flow.v1.TCP.newBuilder().setSourcePort(40000 + i % 20000)
                                .setDestinationPort(port)).build());
                TracePoint[] points = choice == 4 ? new TracePoint[] {TracePoint.FROM_ENDPOINT}
                        : new TracePoint[] {TracePoint.FROM_ENDPOINT, TracePoint.TO_ENDPOINT};
                for (TracePoint point : points) {
                    if (i >= flows) {
                        break;
                    }
                    long at = since.toEpochMilli() + i * step / 1000;
                    Flow f = flow.setTracePoint(point).setNodeSequence(i)
                            .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(at / 1000).setNanos((int) (at % 1000) * 1_000_000))
                            .build();
                    producer.send(new ProducerRecord<>(topic, null, at, f.getNodeName(), f.toByteArray()));
                    i++;
                }
            }
        }
    }
}
