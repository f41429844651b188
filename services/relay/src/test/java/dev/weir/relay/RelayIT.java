package dev.weir.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The relay on a real broker: flows written minutes ago come back from Kafka by time range, with
 * Hubble's filters; the service map draws who talks to whom; every call needs the token.
 */
class RelayIT {

    static Platform platform;
    static ConfigurableApplicationContext relay;
    static String base;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "it-relay-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        Map<String, String> settings = platform.serviceSettings("relay");
        settings.put("server.port", "0");
        relay = new SpringApplicationBuilder(RelayApplication.class).run(RelayApplication.arguments(settings));
        base = "http://127.0.0.1:" + relay.getEnvironment().getProperty("local.server.port");
        long now = System.currentTimeMillis();
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            for (int i = 0; i < 30; i++) { // eight minutes ago: drops by the demo policy
                long at = now - 8 * 60_000 + i * 100;
                Flow flow = flow(at, "node-" + (i % 3), Verdict.DROPPED, 9090).toBuilder()
                        .setDropReason(DropReason.POLICY_DENIED).setEventType(EventType.DROP)
                        .addIngressDeniedBy(PolicyRef.newBuilder().setKind("NetworkPolicy").setNamespace("payments")
                                .setName("api-from-cart")).build();
                producer.send(new ProducerRecord<>(topic, null, at, flow.getNodeName(), flow.toByteArray()));
            }
            for (int i = 0; i < 20; i++) { // just now: allowed traffic
                long at = now - 1000 + i;
                Flow flow = flow(at, "node-1", Verdict.FORWARDED, 8080);
                producer.send(new ProducerRecord<>(topic, null, at, flow.getNodeName(), flow.toByteArray()));
            }
            producer.send(new ProducerRecord<>(topic, null, now, "node-1", new byte[] {(byte) 0xff, 1}));
        }
    }

    static Flow flow(long atMs, String node, Verdict verdict, int port) {
        return Flow.newBuilder().setTime(Timestamp.newBuilder().setSeconds(atMs / 1000).setNanos((int) (atMs % 1000) * 1_000_000))
                .setNodeName(node).setVerdict(verdict).setEventType(EventType.NEW_CONNECTION)
                .setSource(Endpoint.newBuilder().setNamespace("shop").setPodName("frontend-7d9f")
                        .addWorkloads(Workload.newBuilder().setName("frontend").setKind("Deployment")))
                .setDestination(Endpoint.newBuilder().setNamespace(port == 9090 ? "payments" : "shop")
                        .setPodName(port == 9090 ? "api-5c4b" : "cart-1a2b")
                        .addWorkloads(Workload.newBuilder().setName(port == 9090 ? "api" : "cart").setKind("Deployment")))
                .setIp(IP.newBuilder().setSource("198.18.1.10").setDestination(port == 9090 ? "198.18.2.10" : "198.18.1.11"))
                .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(40000).setDestinationPort(port)))
                .build();
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    static HttpResponse<String> get(String path, boolean token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path));
        if (token) {
            request.header("Authorization", "Bearer " + platform.apiToken());
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void historyComesBackFromKafkaByTimeRangeWithHubblesFilters() throws Exception {
        String drops = get("/api/v1/flows?since=10m&verdict=DROPPED&last=20", true).body();
        assertThat(drops.split("\"verdict\":\"DROPPED\"", -1)).hasSize(21);
        assertThat(drops).contains("\"dropReason\":\"POLICY_DENIED\"").contains("NetworkPolicy/payments/api-from-cart")
                .contains("\"undecodable\":1").doesNotContain("FORWARDED");
        assertThat(get("/api/v1/flows?since=5m&verdict=DROPPED", true).body()).contains("\"flows\":[]");
        assertThat(get("/api/v1/flows?since=10m&pod=shop/cart&last=100", true).body().split("\"verdict\"", -1)).hasSize(21);
        assertThat(get("/api/v1/flows?since=10m&namespace=payments&node=node-2&last=100", true).body()
                .split("\"verdict\"", -1)).hasSize(11);
        assertThat(get("/api/v1/flows?since=10m&namespace=payments&not=true&last=100", true).body()
                .split("\"verdict\"", -1)).hasSize(21);
        HttpResponse<String> bad = get("/api/v1/flows?verdict=MAYBE", true);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"field\":\"verdict\"");
        assertThat(get("/api/v1/flows", false).statusCode()).isEqualTo(401);
    }

    @Test
    void theServiceMapDrawsWorkloadsAndEdgesByVerdict() throws Exception {
        String map = get("/api/v1/servicemap?since=10m", true).body();
        assertThat(map).contains("\"id\":\"shop/frontend\"").contains("\"id\":\"payments/api\"")
                .contains("\"source\":\"shop/frontend\",\"destination\":\"payments/api\",\"verdicts\":{\"DROPPED\":30}")
                .contains("\"destination\":\"shop/cart\",\"verdicts\":{\"FORWARDED\":20}");
    }
}
