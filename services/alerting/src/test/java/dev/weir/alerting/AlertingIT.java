package dev.weir.alerting;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.alerting.delivery.Signatures;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * The alerting service on a real broker and PostgreSQL, with webhook receivers on loopback: a
 * burst of policy drops fires a rule after its `for`, one grouped notification arrives signed, a
 * resolved one follows; a flaky receiver gets retries with growing gaps; a gone one is disabled;
 * a service killed with SIGKILL between the outbox write and the delivery delivers after restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AlertingIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Platform platform;
    static ConfigurableApplicationContext service;
    static Path dir;
    static String base;
    static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        dir = Path.of("target", "it-alerting-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        producer = new KafkaProducer<>(KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"));
        service = new SpringApplicationBuilder(AlertingApplication.class).run(AlertingApplication.arguments(settings("0")));
        base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1/alerting";
    }

    static Map<String, String> settings(String port) {
        Map<String, String> settings = platform.serviceSettings("alerting");
        settings.put("server.port", port);
        settings.put("weir.alerting.builtin-rules", "false");
        settings.put("weir.alerting.allow-private-receivers", "true");
        settings.put("weir.alerting.retry-base", "300ms");
        return settings;
    }

    @AfterAll
    static void stop() {
        if (service != null) {
            service.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    static HttpResponse<String> call(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .header("Authorization", "Bearer " + platform.apiToken())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Policy drops towards a namespace, as agents publish them. */
    static void drops(String namespace, int count) {
        long now = System.currentTimeMillis();
        for (int i = 0; i < count; i++) {
            Flow flow = Flow.newBuilder()
                    .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(now / 1000))
                    .setNodeName("node-1").setVerdict(Verdict.DROPPED).setDropReason(DropReason.POLICY_DENIED)
                    .setSource(Endpoint.newBuilder().setNamespace("shop").setPodName("frontend"))
                    .setDestination(Endpoint.newBuilder().setNamespace(namespace).setPodName("api"))
                    .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(40000 + i).setDestinationPort(9090)))
                    .build();
            producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.FLOWS), "node-1", flow.toByteArray()));
        }
        producer.flush();
    }

    static String receiver(String name, String url, String matcher) throws Exception {
        HttpResponse<String> created = call("POST", "/receivers", "application/json", """
                {"name": "%s", "url": "%s", "matchers": ["%s"], "groupBy": ["alertname", "destination_namespace"],
                 "groupWait": "1s", "groupInterval": "2s", "repeatInterval": "1h"}
                """.formatted(name, url, matcher));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        Matcher secret = Pattern.compile("\"secret\":\"([^\"]+)\"").matcher(created.body());
        assertThat(secret.find()).isTrue();
        return secret.group(1);
    }

    static void rule(String name, String namespace) throws Exception {
        HttpResponse<String> applied = call("POST", "/rules", "application/yaml", """
                rules:
                  - name: %s
                    stream: policy-drops
                    match: {destination_namespace: %s}
                    window: 4s
                    above: 5
                    groupBy: [destination_namespace]
                    for: 2s
                    severity: critical
                    annotations: {summary: "{{ $value }} drops to {{ $labels.destination_namespace }}"}
                """.formatted(name, namespace));
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
    }

    /** Sends drops until the rule's alert exists (the consumer may join the group after the first ones). */
    static void dropUntilAlerted(String namespace) throws Exception {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            drops(namespace, 10);
            return call("GET", "/alerts", null, null).body().contains("\"destination_namespace\":\"" + namespace + "\"");
        });
    }

    @Test
    @Order(1)
    void badRulesAreA400NamingTheField() throws Exception {
        HttpResponse<String> response = call("POST", "/rules", "application/yaml",
                "rules: [{name: A, stream: packets, window: 1m, above: 1}]");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("\"field\":\"rules[0].stream\"");
        assertThat(call("POST", "/rules", "application/yaml", "rules: [{name: A, stream: flows, window: 1x, above: 1}]")
                .body()).contains("\"field\":\"rules[0].window\"");
        assertThat(call("POST", "/rules", "application/yaml",
                "rules: [{name: A, stream: flows, window: 1m, above: 1, annotations: {s: '{{ .Bad }}'}}]").body())
                .contains("\"field\":\"rules[0].annotations.s\"");
        HttpResponse<String> endless = call("POST", "/rules", "application/yaml",
                "rules: [{name: A, stream: flows, window: 1m, above: 1, for: 99999999999999d}]");
        assertThat(endless.statusCode()).isEqualTo(400);
        assertThat(endless.body()).contains("\"field\":\"rules[0].for\"");
        HttpResponse<String> aliased = call("POST", "/rules", "application/yaml",
                "rules: [{name: &n A, stream: flows, window: 1m, above: 1, labels: {x: *n}}]");
        assertThat(aliased.statusCode()).isEqualTo(400);
        assertThat(aliased.body()).contains("aliases");
        HttpResponse<String> silence = call("POST", "/silences", "application/json",
                "{\"matchers\": [\"alertname=A\"], \"duration\": \"876000h\"}");
        assertThat(silence.statusCode()).as("a hundred-year silence").isEqualTo(400);
        assertThat(silence.body()).contains("\"field\":\"duration\"");
        assertThat(call("GET", "/rules", null, null).body()).doesNotContain("\"name\":\"A\"");
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/rules")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    }

    @Test
    @Order(2)
    void aBurstOfDropsFiresAfterItsForAsOneSignedGroupedNotificationAndResolves() throws Exception {
        try (WebhookReceiver hook = new WebhookReceiver(0, n -> 200, Map.of())) {
            String secret = receiver("ops", hook.url(), "alertname=ShopDrops");
            rule("ShopDrops", "payments");
            long firstDrop = System.currentTimeMillis();
            // Drops go on until the receiver is told: an alert that fired and resolved within
            // groupWait (a slow machine) is, rightly, never notified.
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                if (hook.requests.isEmpty()) {
                    drops("payments", 10);
                }
                return !hook.requests.isEmpty();
            });
            WebhookReceiver.Request firing = hook.requests.get(0);
            assertThat(firing.atMs() - firstDrop).as("after its for of 2 s").isGreaterThanOrEqualTo(2000);
            assertThat(firing.body()).contains("\"version\":\"4\"").contains("\"status\":\"firing\"")
                    .contains("\"receiver\":\"ops\"").contains("\"alertname\":\"ShopDrops\"")
                    .contains("\"groupKey\"").contains("\"fingerprint\"").contains("drops to payments");
            assertThat(firing.signature()).isEqualTo("v1," + Signatures.sign(secret, firing.id(),
                    Long.parseLong(firing.timestamp()), firing.body()));
            await().atMost(Duration.ofSeconds(30)).until(() -> hook.requests.stream()
                    .anyMatch(r -> r.body().contains("\"status\":\"resolved\"")));
            assertThat(hook.requests.stream().filter(r -> r.body().contains("\"status\":\"firing\"")).count())
                    .as("one grouped firing notification").isEqualTo(1);
        }
    }

    @Test
    @Order(3)
    void aReceiverAnswering503ThreeTimesGetsFourAttemptsWithGrowingGaps() throws Exception {
        try (WebhookReceiver hook = new WebhookReceiver(0, n -> n <= 3 ? 503 : 200, Map.of())) {
            receiver("flaky", hook.url(), "alertname=FlakyDrops");
            rule("FlakyDrops", "flaky");
            dropUntilAlerted("flaky");
            await().atMost(Duration.ofSeconds(60)).until(() -> hook.requests.size() >= 4);
            Thread.sleep(1500);
            List<WebhookReceiver.Request> attempts = hook.requests.stream()
                    .filter(r -> r.id().equals(hook.requests.get(0).id())).toList();
            assertThat(attempts).hasSize(4);
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < attempts.size(); i++) {
                gaps.add(attempts.get(i).atMs() - attempts.get(i - 1).atMs());
            }
            assertThat(gaps.get(1)).isGreaterThan(gaps.get(0));
            assertThat(gaps.get(2)).isGreaterThan(gaps.get(1));
            assertThat(call("GET", "/deliveries?status=delivered", null, null).body())
                    .contains(attempts.get(0).id()).contains("\"attempts\":4");
        }
    }

    @Test
    @Order(4)
    void aReceiverAnswering410IsDisabledAndTheAlertStaysVisible() throws Exception {
        try (WebhookReceiver hook = new WebhookReceiver(0, n -> 410, Map.of())) {
            receiver("gone", hook.url(), "alertname=GoneDrops");
            rule("GoneDrops", "gone");
            dropUntilAlerted("gone");
            await().atMost(Duration.ofSeconds(30)).until(() -> call("GET", "/receivers", null, null).body()
                    .matches("(?s).*\"name\":\"gone\"[^}]*\"disabled\":true.*"));
            assertThat(hook.requests).hasSize(1);
            assertThat(call("GET", "/alerts", null, null).body()).contains("\"rule\":\"GoneDrops\"");
            assertThat(call("GET", "/receivers", null, null).body()).contains("410 Gone");
        }
    }

    @Test
    @Order(7)
    void aServiceKilledBetweenTheOutboxWriteAndTheDeliveryDeliversAfterRestart() throws Exception {
        service.close();
        service = null;
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort(); // nothing listens there until the receiver starts below
        }
        Path log = dir.resolve("alerting-child.log");
        Process child = startChild(log);
        base = "http://127.0.0.1:" + childPort(log) + "/api/v1/alerting";
        receiver("later", "http://127.0.0.1:" + port + "/hook", "alertname=LaterDrops");
        rule("LaterDrops", "later");
        dropUntilAlerted("later");
        String[] id = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Matcher m = Pattern.compile("\"webhookId\":\"([^\"]+)\",\"receiver\":\"later\",\"status\":\"pending\",\"attempts\":[1-9]")
                    .matcher(call("GET", "/deliveries", null, null).body());
            if (m.find()) {
                id[0] = m.group(1);
            }
            return id[0] != null;
        });
        child.destroyForcibly().waitFor(); // SIGKILL: the row is written, not delivered
        try (WebhookReceiver hook = new WebhookReceiver(port, n -> 200, Map.of())) {
            Process restarted = startChild(log);
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> hook.requests.stream().anyMatch(r -> r.id().equals(id[0])));
                // The receiver has it; the row turns delivered once the response is back.
                await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(outboxStatus(id[0])));
            } finally {
                restarted.destroyForcibly().waitFor();
            }
        }
    }

    static String outboxStatus(String id) throws Exception {
        try (var db = DriverManager.getConnection(platform.jdbcUrl() + "?currentSchema=alerting", platform.databaseUser(),
                platform.databasePassword());
                var statement = db.prepareStatement("SELECT status FROM outbox WHERE id = ?")) {
            statement.setString(1, id);
            try (var rs = statement.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    static Process startChild(Path log) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-cp", System.getProperty("java.class.path"), AlertingApplication.class.getName()));
        command.addAll(List.of(AlertingApplication.arguments(settings("0"))));
        long mark = Files.exists(log) ? Files.size(log) : 0;
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!Files.exists(log) || !Files.readString(log).substring((int) mark).contains("Started AlertingApplication")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException("the alerting service did not start:\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
        return process;
    }

    static int childPort(Path log) throws IOException {
        Matcher m = Pattern.compile("Tomcat started on port (\\d+)").matcher(Files.readString(log));
        int port = -1;
        while (m.find()) {
            port = Integer.parseInt(m.group(1));
        }
        return port;
    }

    /**
     * A receiver that answers with a NUL in its status line, and one that takes the connection and
     * never answers: the third receiver of the same alert is notified as if they did not exist,
     * and the hostile answers are stored as text PostgreSQL takes.
     */
    @Test
    @Order(5)
    void hostileReceiversDoNotDelayTheOthers() throws Exception {
        java.util.List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (java.net.ServerSocket nul = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
                WebhookReceiver good = new WebhookReceiver(0, n -> 200, Map.of())) {
            Thread nulServer = new Thread(() -> {
                while (!nul.isClosed()) {
                    try (java.net.Socket socket = nul.accept()) {
                        socket.getOutputStream().write("HTTP/1.1 2\u000000 OK\r\nX: \u0000\r\n\r\n".getBytes(
                                java.nio.charset.StandardCharsets.ISO_8859_1));
                        socket.getOutputStream().flush();
                        Thread.sleep(200);
                    } catch (Exception closed) {
                        return;
                    }
                }
            });
            Thread silentServer = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept()); // accepted, never answered
                    } catch (Exception closed) {
                        return;
                    }
                }
            });
            nulServer.start();
            silentServer.start();
            receiver("nul-answer", "http://127.0.0.1:" + nul.getLocalPort() + "/hook", "alertname=HostileDrops");
            receiver("silent", "http://127.0.0.1:" + silent.getLocalPort() + "/hook", "alertname=HostileDrops");
            receiver("patient", good.url(), "alertname=HostileDrops");
            rule("HostileDrops", "hostile");
            dropUntilAlerted("hostile");
            long alerted = System.currentTimeMillis();
            // groupWait is 1 s; the silent receiver's attempt alone lasts the 10 s delivery timeout.
            await().atMost(Duration.ofSeconds(8)).until(() -> !good.requests.isEmpty());
            assertThat(good.requests.get(0).atMs() - alerted).as("delivered on time").isLessThan(8000);
            await().atMost(Duration.ofSeconds(30)).until(() -> Pattern.compile(
                    "\"receiver\":\"nul-answer\",\"status\":\"pending\",\"attempts\":[1-9]")
                    .matcher(call("GET", "/deliveries", null, null).body()).find());
            String deliveries = call("GET", "/deliveries", null, null).body();
            assertThat(deliveries).doesNotContain("\\u0000").doesNotContain("Connection refused");
        } finally {
            for (java.net.Socket socket : held) {
                socket.close();
            }
        }
    }
}
