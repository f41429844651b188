package dev.weir.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.dns.analytics.DnsAnalytics;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances of the DNS service on a real broker and PostgreSQL: they split the partitions;
 * one is killed with SIGKILL while flows keep coming; the other takes its partitions over and
 * every query is counted exactly once in the committed windows. Then the REST API over the history.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DnsServiceIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static Platform platform;
    static ConfigurableApplicationContext first;
    static Process second;
    static Path dir;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        dir = Path.of("target", "it-dns-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        first = new SpringApplicationBuilder(DnsServiceApplication.class).run(DnsServiceApplication.arguments(settings()));
        base = "http://127.0.0.1:" + first.getEnvironment().getProperty("local.server.port") + "/api/v1/dns";
        second = startSecond();
    }

    static Map<String, String> settings() {
        Map<String, String> settings = platform.serviceSettings("dns");
        settings.put("server.port", "0");
        settings.put("weir.dns.window", "5s");
        settings.put("weir.dns.resolve-after", "5s");
        return settings;
    }

    static Process startSecond() throws Exception {
        Path log = dir.resolve("dns-second.log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-cp", System.getProperty("java.class.path"), DnsServiceApplication.class.getName()));
        command.addAll(List.of(DnsServiceApplication.arguments(settings())));
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!Files.exists(log) || !Files.readString(log).contains("Started DnsServiceApplication")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException("the second instance did not start:\n" + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(200);
        }
        return process;
    }

    @AfterAll
    static void stop() throws Exception {
        if (second != null) {
            second.destroyForcibly().waitFor();
        }
        if (first != null) {
            first.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    @Order(1)
    void twoInstancesSplitThePartitionsAndAKilledOneCountsNothingTwice() throws Exception {
        DnsAnalytics analytics = first.getBean(DnsAnalytics.class);
        // One task per partition of the flows topic (6), split between the two instances.
        await().atMost(Duration.ofSeconds(90)).until(() -> analytics.state().name().equals("RUNNING")
                && analytics.activeTasks() > 0 && analytics.activeTasks() < 6);
        long sent = 0;
        // Killed at a random point of the stream: before any flow, mid-second, or after the last second.
        int killAt = ThreadLocalRandom.current().nextInt(0, 16 * 30);
        System.err.printf("DnsServiceIT: the second instance is killed after %d of %d clients' seconds%n", killAt, 16 * 30);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            for (int second = 0; second < 16; second++) {
                long now = System.currentTimeMillis();
                for (int c = 0; c < 30; c++) {
                    if (second * 30 + c == killAt) {
                        producer.flush();
                        DnsServiceIT.second.destroyForcibly().waitFor(); // SIGKILL: no commit, no leave
                    }
                    String node = "node-" + (c % 6);
                    var pod = new dev.weir.dns.analytics.DnsFlows(node, "team-" + (c % 3), "pod-" + c,
                            "198.18.3." + (c + 1));
                    for (int q = 0; q < 3; q++) {
                        int id = second * 100 + q;
                        send(producer, pod.query(now, id, "A", "svc-" + q + ".team.svc.cluster.local."));
                        send(producer, pod.response(now + 1, id, "A", "svc-" + q + ".team.svc.cluster.local.", 0, 1));
                        sent++;
                    }
                }
                producer.flush();
                Thread.sleep(1000);
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> analytics.activeTasks() == 6);

        Map<String, Long> windows = new HashMap<>();
        Set<String> duplicates = new HashSet<>();
        long counted = 0;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "it-" + System.nanoTime()))) {
            consumer.subscribe(List.of(CATALOGUE.name(TopicId.DNS_STATS)));
            // Generous: after the SIGKILL the group waits out the dead member's session before its
            // tasks move, and a loaded machine (CI) restores them slowly; the wait ends at the count.
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (counted < sent && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    DnsClientStats stats = DnsClientStats.parseFrom(record.value());
                    String window = record.key() + "@" + stats.getWindowStart().getSeconds();
                    if (windows.put(window, stats.getQueries()) != null) {
                        duplicates.add(window);
                    }
                    counted += stats.getQueries();
                }
            }
            // Anything committed after the count was reached would be a double count: look a while longer.
            long settle = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (System.nanoTime() < settle) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    counted += DnsClientStats.parseFrom(record.value()).getQueries();
                }
            }
        }
        assertThat(duplicates).as("windows published twice").isEmpty();
        // Each client sent 3 queries a second for 16 seconds: name the windows of any client short of 48.
        Map<String, Long> perClient = new java.util.TreeMap<>();
        windows.forEach((w, q) -> perClient.merge(w.substring(0, w.indexOf('@')), q, Long::sum));
        StringBuilder shortClients = new StringBuilder();
        perClient.forEach((client, total) -> {
            if (total != 48) {
                shortClients.append(client).append('=').append(total).append(' ').append(new java.util.TreeMap<>(windows)
                        .entrySet().stream().filter(e -> e.getKey().startsWith(client + "@")).toList()).append('\n');
            }
        });
        assertThat(counted).as("queries counted in committed windows (%d clients seen, killed after %d); short "
                + "clients:%n%s", perClient.size(), killAt, shortClients).isEqualTo(sent);
        assertThat(perClient).as("every client's queries, each once").hasSize(30).allSatisfy((client, total) ->
                assertThat(total).isEqualTo(48));
    }

    @Test
    @Order(2)
    void theRestApiServesHealthTopListsAndInsightsFromTheHistory() throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            var pod = new dev.weir.dns.analytics.DnsFlows("node-9", "shop", "frontend-1", "198.18.4.10");
            long now = System.currentTimeMillis();
            int id = 1;
            for (String suffix : List.of("shop.svc.cluster.local.", "svc.cluster.local.", "cluster.local.")) {
                send(producer, pod.query(now, id, "A", "api.example.com." + suffix));
                send(producer, pod.response(now + 1, id++, "A", "api.example.com." + suffix, 3, 1));
            }
            send(producer, pod.query(now + 2, id, "A", "api.example.com."));
            send(producer, pod.response(now + 3, id, "A", "api.example.com.", 0, 1));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/insights?namespace=shop&kind=SEARCH_PATH_EXPANSION")
                .body().contains("frontend-1"));
        String insights = get("/insights?namespace=shop").body();
        assertThat(insights).contains("\"value\":4.0").contains("trailing dot").contains("api.example.com.cluster.local. NXDOMAIN");
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/health?namespace=shop").body().contains("frontend-1"));
        assertThat(get("/health?namespace=shop").body()).contains("\"nxdomain\":3").contains("\"searchPathWasted\":3");
        assertThat(get("/health").body()).contains("\"namespace\":\"team-0\"");
        assertThat(get("/top?by=nxdomain&namespace=shop").body()).contains("api.example.com.shop.svc.cluster.local.");
        assertThat(get("/top?by=clients").body()).contains("team-");

        HttpResponse<String> bad = get("/insights?since=yesterday");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"field\":\"since\"");
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        String metrics = HTTP.send(HttpRequest.newBuilder(URI.create(base.replace("/api/v1/dns", "/actuator/prometheus")))
                .header("Authorization", "Bearer " + platform.apiToken()).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("weir_dns_client_queries_total{namespace=\"shop\",workload=\"frontend\"}")
                .contains("weir_dns_insights_total{kind=\"SEARCH_PATH_EXPANSION\"}");
    }

    @Test
    @Order(3)
    void theP95OfARangeIsTheRangesNotTheWorstWindows() throws Exception {
        var pod = new dev.weir.dns.analytics.DnsFlows("node-9", "latency", "steady-1", "198.18.4.20");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            // One window: twenty answers in 1 ms.
            long now = System.currentTimeMillis();
            for (int id = 1; id <= 20; id++) {
                send(producer, pod.query(now, id, "A", "cart.shop.svc.cluster.local."));
                send(producer, pod.response(now + 1, id, "A", "cart.shop.svc.cluster.local.", 0, 1));
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/health?namespace=latency&since=5m").body()
                .contains("\"queries\":20"));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            // The next window: one slow answer, 800 ms. That window's own p95 is 800 ms.
            long now = System.currentTimeMillis();
            send(producer, pod.query(now, 21, "A", "cart.shop.svc.cluster.local."));
            send(producer, pod.response(now + 800, 21, "A", "cart.shop.svc.cluster.local.", 0, 800));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> get("/health?namespace=latency&since=5m").body()
                .contains("\"queries\":21"));
        // Over both: 21 answers, the 20th fastest is 1 ms (within the histogram's 25 %), not 800.
        var rows = tools.jackson.databind.json.JsonMapper.builder().build().readTree(get("/health?namespace=latency&since=5m")
                .body());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("latencyP95Ms").asDouble()).isBetween(1.0, 1.25);
        var namespaces = tools.jackson.databind.json.JsonMapper.builder().build().readTree(get("/health?since=5m").body());
        List<Double> latency = new ArrayList<>();
        namespaces.forEach(r -> {
            if (r.get("namespace").asString().equals("latency")) {
                latency.add(r.get("latencyP95Ms").asDouble());
            }
        });
        assertThat(latency).hasSize(1).allSatisfy(p95 -> assertThat(p95).isBetween(1.0, 1.25));
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + platform.apiToken())
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    static void send(KafkaProducer<String, byte[]> producer, Flow flow) {
        producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.FLOWS), flow.getNodeName(), flow.toByteArray()));
    }
}
