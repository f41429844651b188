package dev.weir.relay.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import dev.weir.proto.observer.v1.FlowFilter;
import dev.weir.relay.FlowHistory;
import dev.weir.relay.RelayApplication;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A query for one pod's flows over the last hour, with N flows (10 million by default) in Kafka:
 * time to the first result and to the last, through the relay's history (FlowHistory, as the REST
 * and gRPC APIs use it), with 1, 2 and 6 parallel readers over the flows topic's 6 partitions;
 * against, in the same run, a baseline that reads and decodes every record with one consumer
 * and filters it (what a relay without the byte prefilter and parallel readers does).
 *
 * Usage: RelayQueryBenchmark [flows] — starts its own broker and database under target/.
 */
public final class RelayQueryBenchmark {

    static final int NODES = 50;
    static final int PODS = 2000;

    public static void main(String[] args) throws Exception {
        long flows = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        Path dir = Path.of("target", "bench-relay-" + System.currentTimeMillis()).toAbsolutePath();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            String bootstrap = platform.kafkaBootstrapServers();
            String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
            Instant end = Instant.now();
            Instant start = end.minus(Duration.ofMinutes(59));
            long written = write(bootstrap, topic, flows, start, end);
            String pod = "pod-" + 1234;
            String namespace = "team-" + (1234 % 40);
            List<FlowFilter> onePod = List.of(
                    FlowFilter.newBuilder().addSourcePod(namespace + "/" + pod).build(),
                    FlowFilter.newBuilder().addDestinationPod(namespace + "/" + pod).build());
            System.out.printf("wrote %d flows over the last hour (%d nodes, %d pods)%n", written, NODES, PODS);

            long[] baseline = baseline(bootstrap, topic, onePod, end.minus(Duration.ofHours(1)));
            System.out.printf("baseline (1 consumer, decode every record): %d matches, first %d ms, all %d ms%n",
                    baseline[0], baseline[1], baseline[2]);
            for (int readers : new int[] {1, 2, 6}) {
                FlowHistory history = new FlowHistory(new RelayApplication.RelayProperties(bootstrap, null, true,
                        readers, 50_000_000L, Duration.ofMinutes(5), 0, "127.0.0.1", URI.create("http://x"),
                        URI.create("http://x"), URI.create("http://x"), "", null, java.util.List.of(), java.util.List.of()));
                for (int round = 0; round < 2; round++) {
                    AtomicLong matches = new AtomicLong();
                    long[] firstAt = {-1};
                    long t0 = System.nanoTime();
                    var stats = history.stream(end.minus(Duration.ofHours(1)), null, onePod, List.of(), 0, flow -> {
                        if (firstAt[0] < 0) {
                            firstAt[0] = System.nanoTime() - t0;
                        }
                        matches.incrementAndGet();
                        return true;
                    });
                    long all = System.nanoTime() - t0;
                    System.out.printf("relay, %d reader(s), round %d: %d matches of %d scanned, first %d ms, all %d ms"
                            + "%s (%.2fx faster than the baseline)%n", readers, round + 1, matches.get(), stats.scanned(),
                            firstAt[0] / 1_000_000, all / 1_000_000, stats.truncated() ? " TRUNCATED" : "",
                            (double) baseline[2] / (all / 1_000_000));
                }
            }
            FlowHistory history = new FlowHistory(new RelayApplication.RelayProperties(bootstrap, null, true, 6,
                    50_000_000L, Duration.ofMinutes(5), 0, "127.0.0.1", URI.create("http://x"), URI.create("http://x"),
                    URI.create("http://x"), "", null, java.util.List.of(), java.util.List.of()));
            long t0 = System.nanoTime();
            var last = history.query(end.minus(Duration.ofHours(1)), null, onePod, List.of(), 100, false);
            System.out.printf("relay, last 100 of the pod's flows (REST default), 6 readers: %d flows in %d ms%n",
                    last.flows().size(), (System.nanoTime() - t0) / 1_000_000);
            // A hostile wildcard: 24 stars and a character no node name has. With a backtracking regex
            // each flow cost exponential time; the glob matcher walks the name once per part.
            List<FlowFilter> hostile = List.of(FlowFilter.newBuilder().addNodeName("*".repeat(24) + "#").build());
            long t1 = System.nanoTime();
            var none = history.query(end.minus(Duration.ofHours(1)), null, hostile, List.of(), 100, false);
            long hostileMs = (System.nanoTime() - t1) / 1_000_000;
            long t2 = System.nanoTime();
            var plain = history.query(end.minus(Duration.ofHours(1)), null,
                    List.of(FlowFilter.newBuilder().addNodeName("node-#").build()), List.of(), 100, false);
            long plainMs = (System.nanoTime() - t2) / 1_000_000;
            System.out.printf("relay, node=%s over the hour, 6 readers: %d flows of %d scanned in %d ms; "
                    + "node=node-# (no wildcard) %d ms (%.2fx)%n", "*".repeat(24) + "#", none.flows().size(),
                    none.scanned(), hostileMs, plainMs, (double) hostileMs / Math.max(1, plainMs));
            apis(platform, namespace + "/" + pod);
        }
    }

    /**
     * The same pod's hour through the relay's APIs, as clients call them, in the same run: REST
     * (the last 10,000, the most a page holds) and Hubble's GetFlows (the last 10,000, and the
     * first 10,000 streamed as found), two rounds each.
     */
    static void apis(Platform platform, String pod) throws Exception {
        Map<String, String> settings = platform.serviceSettings("relay");
        settings.put("server.port", "0");
        settings.put("weir.grpc-port", "0");
        try (var relay = new org.springframework.boot.builder.SpringApplicationBuilder(RelayApplication.class)
                .run(RelayApplication.arguments(settings))) {
            String base = "http://127.0.0.1:" + relay.getEnvironment().getProperty("local.server.port");
            int grpcPort = relay.getBean(dev.weir.relay.ObserverServer.class).port();
            var http = java.net.http.HttpClient.newHttpClient();
            io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort)
                    .usePlaintext().maxInboundMessageSize(16 * 1024 * 1024).build();
            io.grpc.Metadata auth = new io.grpc.Metadata();
            auth.put(dev.weir.common.auth.BearerTokenInterceptor.AUTHORIZATION, "Bearer " + platform.apiToken());
            var hubble = dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(channel)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
            try {
                for (int round = 1; round <= 2; round++) {
                    long t0 = System.nanoTime();
                    var answer = http.send(java.net.http.HttpRequest.newBuilder(URI.create(base
                            + "/api/v1/flows?pod=" + pod + "&since=1h&last=10000"))
                            .header("Authorization", "Bearer " + platform.apiToken()).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    long restMs = (System.nanoTime() - t0) / 1_000_000;
                    int restFlows = answer.body().split("\"uuid\"", -1).length - 1;
                    System.out.printf("REST GET /api/v1/flows?pod=%s&since=1h&last=10000, round %d: HTTP %d, %d flows, "
                            + "all in %d ms%n", pod, round, answer.statusCode(), restFlows, restMs);
                    for (boolean first : new boolean[] {false, true}) {
                        var request = dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(10_000)
                                .setFirst(first).setSince(com.google.protobuf.util.Timestamps.fromMillis(
                                        System.currentTimeMillis() - 3_600_000))
                                .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addSourcePod(pod))
                                .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addDestinationPod(pod))
                                .build();
                        long t1 = System.nanoTime();
                        long firstAt = -1;
                        long count = 0;
                        var it = hubble.getFlows(request);
                        while (it.hasNext()) {
                            if (it.next().hasFlow()) {
                                if (firstAt < 0) {
                                    firstAt = System.nanoTime() - t1;
                                }
                                count++;
                            }
                        }
                        long allMs = (System.nanoTime() - t1) / 1_000_000;
                        System.out.printf("Hubble GetFlows %s 10000, both sides of %s, since 1h, round %d: %d flows, "
                                + "first %d ms, all %d ms (%.2fx the REST query's time)%n", first ? "first" : "last", pod,
                                round, count, firstAt / 1_000_000, allMs, (double) allMs / Math.max(1, restMs));
                    }
                }
            } finally {
                channel.shutdownNow();
            }
        }
    }

    static long write(String bootstrap, String topic, long flows, Instant start, Instant end) throws Exception {
        Map<String, Object> config = KafkaClients.producerConfig(bootstrap, "bench");
        config.put("batch.size", 1024 * 1024);
        config.put("linger.ms", 20);
        long span = Duration.between(start, end).toNanos();
        long t0 = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
            for (long i = 0; i < flows; i++) {
                Instant at = start.plusNanos(span / flows * i);
                int node = (int) (i % NODES);
                int src = (int) ((i * 7919) % PODS);
                int dst = (int) ((i * 104729 + 13) % PODS);
                Flow flow = Flow.newBuilder()
                        .setTime(Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()))
                        .setUuid("00000000-0000-0000-0000-" + String.format("%012d", i)).setNodeName("node-" + node)
                        .setVerdict(i % 17 == 0 ? Verdict.DROPPED : Verdict.FORWARDED).setEventType(EventType.NEW_CONNECTION)
                        .setTrafficDirection(TrafficDirection.EGRESS)
                        .setSource(endpoint(src)).setDestination(endpoint(dst))
                        .setIp(IP.newBuilder().setSource(ip(src)).setDestination(ip(dst)))
                        .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(30000 + (int) (i % 30000))
                                .setDestinationPort(8080)))
                        .setSummary("TCP SYN").build();
                producer.send(new ProducerRecord<>(topic, null, at.toEpochMilli(), flow.getNodeName(), flow.toByteArray()));
            }
            producer.flush();
        }
        System.out.printf("writing took %d s%n", (System.nanoTime() - t0) / 1_000_000_000);
        return flows;
    }

    static Endpoint endpoint(int pod) {
        String namespace = "team-" + (pod % 40);
        return Endpoint.newBuilder().setNamespace(namespace).setPodName("pod-" + pod).setIdentity(1000 + pod % 400)
                .addLabels("app=svc-" + (pod % 400)).addLabels("k8s:io.kubernetes.pod.namespace=" + namespace)
                .addWorkloads(Workload.newBuilder().setName("svc-" + (pod % 400)).setKind("Deployment")).build();
    }

    static String ip(int pod) {
        return "198.18." + (pod / 250) + "." + (pod % 250 + 1);
    }

    /** One consumer, every record decoded and filtered: {matches, first ms, all ms}. */
    static long[] baseline(String bootstrap, String topic, List<FlowFilter> filters, Instant since) {
        Map<String, Object> config = KafkaClients.consumerConfig(bootstrap, "bench");
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        config.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 * 1024 * 1024);
        long t0 = System.nanoTime();
        long first = -1;
        long matches = 0;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            consumer.assign(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> remaining = new java.util.HashMap<>(ends);
            remaining.entrySet().removeIf(e -> e.getValue() == 0);
            while (!remaining.isEmpty()) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() + 1 >= ends.get(tp)) {
                        remaining.remove(tp);
                    }
                    try {
                        Flow flow = Flow.parseFrom(record.value());
                        if (!Instant.ofEpochSecond(flow.getTime().getSeconds()).isBefore(since)
                                && dev.weir.common.flow.FlowFilters.passes(flow, filters, List.of())) {
                            matches++;
                            if (first < 0) {
                                first = System.nanoTime() - t0;
                            }
                        }
                    } catch (InvalidProtocolBufferException e) {
                        // not in this benchmark's data
                    }
                }
            }
        }
        return new long[] {matches, first / 1_000_000, (System.nanoTime() - t0) / 1_000_000};
    }
}
