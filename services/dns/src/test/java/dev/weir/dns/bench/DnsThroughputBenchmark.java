package dev.weir.dns.bench;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.dns.analytics.DnsAnalytics;
import dev.weir.dns.analytics.DnsEvents;
import dev.weir.dns.analytics.DnsFlows;
import dev.weir.dns.analytics.DnsSettings;
import dev.weir.dns.analytics.DnsTopology;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * DNS events per second through one analytics instance (one stream thread, exactly-once, a real
 * broker), against a baseline measured in the same run: a plain consumer that reads and decodes
 * the same flows and does nothing else. Then the detection latency of a search-path storm: from
 * its first query entering Kafka to its insight readable (read_committed) on the insights topic.
 *
 * <p>usage: DnsThroughputBenchmark [events] [storms]
 */
public final class DnsThroughputBenchmark {

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        int storms = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        TopicCatalogue catalogue = TopicCatalogue.standard();
        Path dir = Path.of("target", "bench-dns-" + System.nanoTime()).toAbsolutePath(); // PostgreSQL runs as its own user: not under /tmp
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            String bootstrap = platform.kafkaBootstrapServers();
            produce(bootstrap, catalogue, events);
            double[] baselineRates = baseline(bootstrap, catalogue, events);
            double baseline = baselineRates[0];
            int threads = Integer.getInteger("threads", 1);
            Properties props = DnsAnalytics.config(dev.weir.common.kafka.KafkaConnection.unauthenticated(bootstrap), dir.resolve("streams"), threads);
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "weir-dns-bench");
            // Closed before the broker whatever happens: stream threads left running would keep this
            // JVM alive, retrying against a broker that is gone, and compete with the next run for the CPU.
            try (KafkaStreams streams = new KafkaStreams(DnsTopology.build(catalogue, DnsSettings.DEFAULTS), props)) {
                long start = System.nanoTime();
                streams.start();
                double steady;
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    steady = awaitCaughtUp(admin, "weir-dns-bench", catalogue.name(TopicId.FLOWS), events);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                double rate = events / seconds;
                System.out.printf("%,d DNS events: baseline consumer (read + decode) %,.0f/s; analytics (one instance, "
                        + "%d stream thread(s), exactly once) %,.0f/s in %.1f s; analytics/baseline %.2f%n", events,
                        baseline, threads, rate, seconds, rate / baseline);
                // Start-up (group join, tasks, changelog topics) is in the totals above; between 10 % and
                // 90 % of the events each side runs at its steady rate.
                System.out.printf("steady state (10 %% to 90 %% of the events): baseline %,.0f/s; analytics %,.0f/s; "
                        + "analytics/baseline %.2f%n", baselineRates[1], steady, steady / baselineRates[1]);
                latency(bootstrap, catalogue, storms);
            }
        }
    }

    /** Client-side DNS flows as agents publish them: 2,000 pods on 20 nodes, queries and responses. */
    static void produce(String bootstrap, TopicCatalogue catalogue, int events) throws Exception {
        List<DnsFlows> pods = new ArrayList<>();
        for (int p = 0; p < 2000; p++) {
            pods.add(new DnsFlows("node-" + (p % 20), "ns-" + (p % 50), "pod-" + p, "198.18." + (p / 250) + "." + (p % 250 + 1)));
        }
        long now = System.currentTimeMillis();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producerConfig(bootstrap, "bench"))) {
            for (int i = 0; i < events; i += 2) {
                DnsFlows pod = pods.get((i / 2) % pods.size());
                int id = i / 2 & 0xffff;
                String name = "svc-" + (i / 2 % 40) + ".ns.svc.cluster.local.";
                Flow query = pod.query(now, id, "A", name);
                Flow response = pod.response(now + 1, id, "A", name, i % 20 == 0 ? 3 : 0, 1 + i % 7);
                producer.send(new ProducerRecord<>(catalogue.name(TopicId.FLOWS), query.getNodeName(), query.toByteArray()));
                producer.send(new ProducerRecord<>(catalogue.name(TopicId.FLOWS), query.getNodeName(),
                        response.toByteArray()));
            }
        }
    }

    /** The baseline's rate over the whole run and between 10 % and 90 % of the events. */
    static double[] baseline(String bootstrap, TopicCatalogue catalogue, int events) throws Exception {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap, "baseline"))) {
            consumer.subscribe(List.of(catalogue.name(TopicId.FLOWS)));
            long start = System.nanoTime();
            long read = 0;
            long dns = 0;
            long at10 = 0;
            long at90 = 0;
            while (read < events) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    read++;
                    if (DnsEvents.of(Flow.parseFrom(record.value())).isPresent()) {
                        dns++;
                    }
                }
                if (at10 == 0 && read >= events / 10) {
                    at10 = System.nanoTime();
                }
                if (at90 == 0 && read >= events * 9L / 10) {
                    at90 = System.nanoTime();
                }
            }
            double rate = read / ((System.nanoTime() - start) / 1e9);
            if (dns != read) {
                throw new IllegalStateException("only " + dns + " of " + read + " flows were DNS events");
            }
            return new double[] {rate, events * 0.8 / ((at90 - at10) / 1e9)};
        }
    }

    /** Waits for the group's committed offsets to reach the end; returns its rate from 10 % to 90 % of the events. */
    static double awaitCaughtUp(Admin admin, String group, String topic, int events) throws Exception {
        long at10 = 0;
        long at90 = 0;
        while (true) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            long processed = committed.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
                    .mapToLong(e -> e.getValue().offset()).sum();
            if (at10 == 0 && processed >= events / 10) {
                at10 = System.nanoTime();
            }
            if (at90 == 0 && processed >= events * 9L / 10) {
                at90 = System.nanoTime();
            }
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            committed.keySet().stream().filter(tp -> tp.topic().equals(topic)).forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            if (!latest.isEmpty()) {
                var ends = admin.listOffsets(latest).all().get();
                boolean done = ends.entrySet().stream().allMatch(e -> committed.get(e.getKey()).offset() >= e.getValue().offset()
                        - 1); // a transaction marker follows the last record
                if (done) {
                    return events * 0.8 / ((at90 - at10) / 1e9);
                }
            }
            Thread.sleep(50);
        }
    }

    /** Storms of search-path candidates; each one's insight timed from its first query's send. */
    static void latency(String bootstrap, TopicCatalogue catalogue, int storms) throws Exception {
        List<Double> latencies = new ArrayList<>();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producerConfig(bootstrap, "storm"));
                KafkaConsumer<String, byte[]> insights = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap,
                        "storm-" + System.nanoTime()))) {
            insights.subscribe(List.of(catalogue.name(TopicId.DNS_INSIGHTS)));
            while (insights.assignment().isEmpty()) {
                insights.poll(Duration.ofMillis(100));
            }
            // seekToEnd is lazy: resolve the end now, or an insight committed before the first fetch
            // would be skipped and its storm reported as never detected.
            insights.seekToEnd(insights.assignment());
            insights.assignment().forEach(insights::position);
            for (int s = 0; s < storms; s++) {
                boolean stalled = false;
                DnsFlows pod = new DnsFlows("node-storm", "storm", "pod-" + s, "198.19.9." + (s + 1));
                long t0 = System.currentTimeMillis();
                long sent = System.nanoTime();
                int id = 1;
                for (String suffix : List.of("storm.svc.cluster.local.", "svc.cluster.local.", "cluster.local.")) {
                    send(producer, catalogue, pod.query(t0, id, "A", "api.example.com." + suffix));
                    send(producer, catalogue, pod.response(t0, id++, "A", "api.example.com." + suffix, 3, 1));
                }
                send(producer, catalogue, pod.query(t0, id, "A", "api.example.com."));
                send(producer, catalogue, pod.response(t0, id, "A", "api.example.com.", 0, 1));
                producer.flush();
                Set<String> seen = new HashSet<>();
                while (seen.isEmpty()) {
                    for (ConsumerRecord<String, byte[]> record : insights.poll(Duration.ofMillis(20))) {
                        DnsInsight insight = DnsInsight.parseFrom(record.value());
                        if (insight.getPodName().equals("pod-" + s)) {
                            seen.add(insight.getId());
                        }
                    }
                    if (!stalled && System.nanoTime() - sent > Duration.ofSeconds(30).toNanos()) {
                        stalled = true;
                        System.out.println("storm " + s + ": no insight after 30 s; the stream threads are at:");
                        Thread.getAllStackTraces().forEach((t, stack) -> {
                            if (t.getName().contains("StreamThread") || t.getName().contains("producer-network")) {
                                System.out.println(t.getName() + " " + t.getState());
                                for (StackTraceElement e : stack) {
                                    System.out.println("    at " + e);
                                }
                            }
                        });
                    }
                    if (System.nanoTime() - sent > Duration.ofSeconds(Long.getLong("stallSeconds", 30)).toNanos()) {
                        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                            var listed = admin.listTransactions().all().get();
                            var ids = listed.stream().map(t -> t.transactionalId()).toList();
                            admin.describeTransactions(ids).all().get().forEach((txn, d) -> System.out.println(
                                    "transaction " + txn + ": " + d.state() + " started " + d.transactionStartTimeMs()
                                            + " partitions " + d.topicPartitions()));
                        }
                        throw new IllegalStateException("no insight for storm " + s);
                    }
                }
                latencies.add((System.nanoTime() - sent) / 1e6);
            }
        }
        Collections.sort(latencies);
        System.out.printf("detection latency over %d storms (first query sent to insight read): p50 %.0f ms, "
                + "p99 %.0f ms, max %.0f ms%n", storms, latencies.get(latencies.size() / 2),
                latencies.get(Math.min(latencies.size() - 1, (int) Math.ceil(latencies.size() * 0.99) - 1)),
                latencies.get(latencies.size() - 1));
    }

    private static void send(KafkaProducer<String, byte[]> producer, TopicCatalogue catalogue, Flow flow) {
        producer.send(new ProducerRecord<>(catalogue.name(TopicId.FLOWS), flow.getNodeName(), flow.toByteArray()));
    }
}
