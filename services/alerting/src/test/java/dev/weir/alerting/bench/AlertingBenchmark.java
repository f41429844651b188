package dev.weir.alerting.bench;

import dev.weir.alerting.AlertingApplication;
import dev.weir.alerting.eval.Evaluator;
import dev.weir.alerting.eval.Event;
import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.RuleParser;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * (1) From an offending flow entering Kafka to its webhook received, with `for: 0s` and no group
 * wait: p50 and p99 over sequential trials, each a new alert. (2) Events per second through the
 * evaluator with 1,000 rules loaded against the same events with one rule, interleaved.
 *
 * <p>usage: AlertingBenchmark [trials] [events]
 */
public final class AlertingBenchmark {

    public static void main(String[] args) throws Exception {
        int trials = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        evaluation(events);
        latency(trials);
        System.exit(0);
    }

    static void evaluation(int events) {
        StringBuilder many = new StringBuilder("rules:\n");
        for (int r = 0; r < 1000; r++) {
            many.append("  - {name: R").append(r).append(", stream: policy-drops, match: {destination_namespace: ns-")
                    .append(r % 100).append("}, window: 1m, above: ").append(r).append(", groupBy: [destination_pod]}\n");
        }
        List<Rule> thousand = RuleParser.parse(many.toString());
        List<Rule> one = RuleParser.parse("{name: R, stream: policy-drops, window: 1m, above: 5, groupBy: [destination_pod]}");
        List<Event> stream = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            stream.add(new Event(Rule.Stream.POLICY_DROPS, 0, Map.of("destination_namespace", "ns-" + (i % 100),
                    "destination_pod", "pod-" + (i % 50), "source_namespace", "shop"), Map.of()));
        }
        double[] rates = new double[2];
        for (int round = 0; round < 3; round++) {
            for (int which = 0; which < 2; which++) {
                Evaluator evaluator = new Evaluator();
                evaluator.setRules(which == 0 ? one : thousand);
                long start = System.nanoTime();
                long now = 1_800_000_000_000L;
                for (int i = 0; i < events; i++) {
                    evaluator.add(stream.get(i % stream.size()), now + i / 1000);
                    if (i % 100_000 == 0) {
                        evaluator.tick(now + i / 1000);
                    }
                }
                rates[which] = Math.max(rates[which], events / ((System.nanoTime() - start) / 1e9));
            }
        }
        System.out.printf("evaluation: 1 rule %,.0f events/s; 1,000 rules %,.0f events/s (best of 3); ratio %.2f%n",
                rates[0], rates[1], rates[1] / rates[0]);
    }

    static void latency(int trials) throws Exception {
        Path dir = Path.of("target", "bench-alerting-" + System.nanoTime()).toAbsolutePath();
        Map<String, Long> received = new ConcurrentHashMap<>();
        HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        hook.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes());
            long at = System.nanoTime();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"destination_namespace\":\"(trial-\\d+)\"").matcher(body);
            while (m.find()) {
                received.putIfAbsent(m.group(1), at);
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        hook.start();
        TopicCatalogue catalogue = TopicCatalogue.standard();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                        KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "bench"))) {
            Map<String, String> settings = platform.serviceSettings("alerting");
            settings.put("server.port", "0");
            settings.put("weir.alerting.builtin-rules", "false");
            settings.put("weir.alerting.allow-private-receivers", "true");
            var service = new SpringApplicationBuilder(AlertingApplication.class).run(AlertingApplication.arguments(settings));
            String base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1/alerting";
            HttpClient http = HttpClient.newHttpClient();
            post(http, base + "/receivers", "application/json", platform.apiToken(), """
                    {"name": "bench", "url": "http://127.0.0.1:%d/hook", "groupBy": ["destination_namespace"],
                     "groupWait": "0s", "groupInterval": "1s"}""".formatted(hook.getAddress().getPort()));
            post(http, base + "/rules", "application/yaml", platform.apiToken(),
                    "{name: Any, stream: policy-drops, window: 10s, above: 0, groupBy: [destination_namespace], for: 0s}");
            Thread.sleep(3000); // the consumer joins its group
            List<Double> latencies = new ArrayList<>();
            for (int t = 0; t < trials + 3; t++) {
                String namespace = "trial-" + t;
                long sent = System.nanoTime();
                Flow flow = Flow.newBuilder().setNodeName("node-1").setVerdict(Verdict.DROPPED)
                        .setDropReason(DropReason.POLICY_DENIED)
                        .setDestination(Endpoint.newBuilder().setNamespace(namespace).setPodName("api")).build();
                producer.send(new ProducerRecord<>(catalogue.name(TopicId.FLOWS), "node-1", flow.toByteArray()));
                producer.flush();
                long deadline = sent + 30_000_000_000L;
                while (!received.containsKey(namespace) && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                if (!received.containsKey(namespace)) {
                    throw new IllegalStateException("no webhook for " + namespace);
                }
                if (t >= 3) { // the first trials warm up
                    latencies.add((received.get(namespace) - sent) / 1e6);
                }
            }
            Collections.sort(latencies);
            System.out.printf("flow to webhook (for: 0s, group wait 0s) over %d alerts: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
                    latencies.size(), latencies.get(latencies.size() / 2),
                    latencies.get(Math.min(latencies.size() - 1, (int) Math.ceil(latencies.size() * 0.99) - 1)),
                    latencies.get(latencies.size() - 1));
            service.close();
        } finally {
            hook.stop(0);
        }
    }

    static void post(HttpClient http, String url, String type, String token, String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", type)
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + ": " + response.statusCode() + " " + response.body());
        }
    }
}
