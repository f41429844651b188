package dev.weir.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.policy.service.PolicyServiceApplication;
import dev.weir.relay.RelayApplication;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.NodeNamespace;
import dev.weir.testbed.PodManifest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A cluster of two nodes on one machine (root): each node a network namespace with its own agent
 * process, its own BPF filesystem and pin path, and its own pods, routed to each other through the
 * machine. Policies are enforced by identity across the nodes, both ways; both nodes' flows reach
 * Kafka, and the relay lists both nodes.
 */
class TwoNodesPrivilegedIT {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static Platform platform;
    static ConfigurableApplicationContext policy;
    static ConfigurableApplicationContext relay;
    static final List<NodeNamespace> nodes = new ArrayList<>();
    static final List<Process> agents = new ArrayList<>();
    static final List<Kubelet> kubelets = new ArrayList<>();
    static Path dir;
    static String tag;
    static String[] podPrefix = new String[2];
    static final List<Process> servers = new ArrayList<>();

    static final String POLICIES = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: b-from-a, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress:
                - from: [{podSelector: {matchLabels: {app: a}}}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: a-from-b, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: a}}
              ingress:
                - from: [{podSelector: {matchLabels: {app: b}}}]
            """;

    @BeforeAll
    static void start() throws Exception {
        tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        int octet = ThreadLocalRandom.current().nextInt(1, 120) * 2;
        dir = Path.of("target", "it-two-" + tag).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        Map<String, String> settings = platform.serviceSettings("policy");
        settings.put("server.port", "0");
        policy = new SpringApplicationBuilder(PolicyServiceApplication.class).run(PolicyServiceApplication.arguments(settings));
        Map<String, String> relaySettings = platform.serviceSettings("relay");
        relaySettings.put("server.port", "0");
        relaySettings.put("weir.grpc-port", "0");
        relay = new SpringApplicationBuilder(RelayApplication.class).run(RelayApplication.arguments(relaySettings));
        // Agents reach the broker's authenticated listener with their own certificate, as on a real node.
        String agentKafka = platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT).bootstrapServers();
        int kafkaPort = Integer.parseInt(agentKafka.substring(agentKafka.lastIndexOf(':') + 1));
        for (int i = 0; i < 2; i++) {
            String node = "tn" + tag + "-" + (char) ('a' + i);
            // Node i: link 198.18.<octet>.<4i+1>/30 (machine) and .<4i+2> (node); pods in 198.19.<octet+i>.0/24.
            podPrefix[i] = "198.19." + (octet + i) + ".";
            NodeNamespace n = NodeNamespace.create(node, "198.18." + octet + "." + (4 * i + 1),
                    "198.18." + octet + "." + (4 * i + 2), podPrefix[i] + "0/24");
            nodes.add(n);
            n.forwardKafka(kafkaPort);
            Path log = dir.resolve("agent-" + node + ".log");
            Process agent = n.start(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                    "-cp", System.getProperty("java.class.path"), "dev.weir.agent.Agent"), Map.of(
                    "WEIR_NODE_NAME", node, "WEIR_KAFKA_BOOTSTRAP", agentKafka,
                    "WEIR_KAFKA_PROPERTIES_FILE", platform.kafkaPropertiesFile("weir-agent").toString(),
                    "WEIR_BPF_PIN_ROOT", n.pinRoot().toString(), "WEIR_STATE_DIR", n.stateDir().toString(),
                    "WEIR_API_TOKEN_FILE", platform.apiTokenFile().toString(),
                    "WEIR_OBSERVER_ADDRESS", "127.0.0.1:0", "WEIR_METRICS_ADDRESS", "127.0.0.1:0"), log);
            agents.add(agent);
            await().atMost(Duration.ofSeconds(60)).until(() -> !agent.isAlive()
                    || (Files.exists(log) && Files.readString(log).contains("weir-agent: running")));
            assertThat(agent.isAlive()).as(Files.readString(log)).isTrue();
            kubelets.add(n.kubelet(platform.kafkaBootstrapServers(), NativeArtifacts.cniPlugin()));
        }
        // a and c on the first node, b and d on the second.
        kubelets.get(0).start(PodManifest.of("shop", "a", podPrefix[0] + "10"));
        kubelets.get(0).start(PodManifest.of("shop", "c", podPrefix[0] + "11"));
        kubelets.get(1).start(PodManifest.of("shop", "b", podPrefix[1] + "10"));
        kubelets.get(1).start(PodManifest.of("shop", "d", podPrefix[1] + "11"));
        for (String[] server : new String[][] {{"0", "a"}, {"1", "b"}}) {
            Kubelet kubelet = kubelets.get(Integer.parseInt(server[0]));
            servers.add(new ProcessBuilder("ip", "netns", "exec", kubelet.network().namespaceOf("shop", server[1]),
                    "socat", "-u", "TCP-LISTEN:8080,reuseaddr,fork", "/dev/null").start());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        servers.forEach(Process::destroyForcibly);
        for (Kubelet kubelet : kubelets) {
            kubelet.stopAll();
            kubelet.close();
        }
        for (Process agent : agents) {
            agent.destroy();
            agent.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            agent.destroyForcibly();
        }
        nodes.forEach(NodeNamespace::close);
        for (ConfigurableApplicationContext context : new ConfigurableApplicationContext[] {relay, policy}) {
            if (context != null) {
                context.close();
            }
        }
        if (platform != null) {
            platform.close();
        }
        for (NodeNamespace n : nodes) {
            new ProcessBuilder("rm", "-rf", "/run/weir/nodes/" + n.node()).start().waitFor();
        }
    }

    /** A TCP connection from a pod of node `from` to a pod's port 8080. */
    static boolean connect(int from, String pod, String to) throws Exception {
        return kubelets.get(from).execIn("shop", pod, 10, "socat", "-u", "/dev/null", "TCP:" + to + ":8080,connect-timeout=1")
                .exitCode() == 0;
    }

    static HttpResponse<String> get(ConfigurableApplicationContext context, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + context.getEnvironment().getProperty("local.server.port") + path))
                .header("Authorization", "Bearer " + platform.apiToken()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void policiesAreEnforcedByIdentityAcrossTheNodesBothWaysAndTheRelayListsBothNodes() throws Exception {
        String a = podPrefix[0] + "10";
        String b = podPrefix[1] + "10";
        // Told ("no policy selects you"), every pod reaches the other node's.
        await().atMost(Duration.ofSeconds(60)).until(() -> connect(0, "a", b) && connect(0, "c", b)
                && connect(1, "b", a) && connect(1, "d", a));

        HttpResponse<String> applied = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + policy.getEnvironment().getProperty("local.server.port") + "/api/v1/policies"))
                .header("Authorization", "Bearer " + platform.apiToken()).header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(POLICIES)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> !connect(0, "c", b) && !connect(1, "d", a));
        assertThat(connect(0, "a", b)).as("a (first node) to b (second node)").isTrue();
        assertThat(connect(1, "b", a)).as("b (second node) to a (first node)").isTrue();

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            String listed = get(relay, "/api/v1/nodes").body();
            assertThat(listed).contains("\"name\":\"" + nodes.get(0).node() + "\"")
                    .contains("\"name\":\"" + nodes.get(1).node() + "\"");
        });
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            String flows = get(relay, "/api/v1/flows?since=5m&verdict=DROPPED&last=200").body();
            // Each node judged the drop at its pod: c -> b on the second node, d -> a on the first.
            assertThat(flows).contains(nodes.get(1).node()).contains(nodes.get(0).node());
        });
    }
}
