package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The CNI lifecycle's edges fail closed (root): an ADD sent again is the same endpoint; a DEL that
 * comes while the pod's veth still exists closes it rather than opening it, and the entry goes
 * when the veth does; an attachment record that cannot be read after a restart leaves its
 * interface closed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CniLifecyclePrivilegedIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static Platform platform;
    static AgentConfig config;
    static Agent agent;
    static Kubelet kubelet;
    static KafkaProducer<String, byte[]> producer;
    static String node;
    static String prefix;
    static Process server;

    @BeforeAll
    static void start() throws Exception {
        node = "cl" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        prefix = "198.19." + ThreadLocalRandom.current().nextInt(1, 250) + ".";
        platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath())).start();
        producer = new KafkaProducer<>(KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "cl-it"));
        config = AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken());
        agent = Agent.start(config);
        kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(), NativeArtifacts.cniPlugin(), config.cniSocket());
        for (String[] pod : new String[][] {{"x", "p", "10"}, {"x", "q", "11"}, {"y", "s", "12"}}) {
            kubelet.start(PodManifest.of(pod[0], pod[1], prefix + pod[2]));
            tell(agent.endpoints().byPod(pod[0], pod[1]).orElseThrow());
        }
        server = new ProcessBuilder("ip", "netns", "exec", kubelet.network().namespaceOf("y", "s"), "socat", "-u",
                "TCP-LISTEN:8080,reuseaddr,fork", "/dev/null").start();
        await().atMost(Duration.ofSeconds(30)).until(() -> connect("p") && connect("q"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.destroyForcibly().waitFor();
        }
        if (kubelet != null) {
            kubelet.stopAll();
            kubelet.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (platform != null) {
            platform.close();
        }
        new ProcessBuilder("rm", "-rf", "/sys/fs/bpf/weir-" + node, "/run/weir/nodes/" + node).start().waitFor();
    }

    /** "No policy selects you", revision 1, and wait until the datapath has it. */
    static void tell(LocalEndpoint endpoint) throws Exception {
        producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.ENDPOINT_POLICY_STATE), node + "/" + endpoint.endpointId(),
                EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(endpoint.endpointId())
                        .setNamespace(endpoint.spec().namespace()).setPodName(endpoint.spec().pod()).setRevision(1)
                        .build().toByteArray())).get();
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.endpoints().byId(endpoint.endpointId())
                .map(e -> (e.flags() & MapLayout.EP_AWAITING_POLICY) == 0).orElse(false));
    }

    static boolean connect(String pod) throws Exception {
        return kubelet.execIn("x", pod, 10, "socat", "-u", "/dev/null", "TCP:" + prefix + "12:8080,connect-timeout=1")
                .exitCode() == 0;
    }

    @Test
    @Order(1)
    void anAddSentAgainIsTheSameEndpoint() throws Exception {
        LocalEndpoint before = agent.endpoints().byPod("x", "p").orElseThrow();
        assertThat(kubelet.call("ADD", "x", "p").ok()).isTrue();
        assertThat(agent.endpoints().byPod("x", "p").orElseThrow().endpointId()).isEqualTo(before.endpointId());
        assertThat(agent.endpoints().endpoints()).hasSize(3);
    }

    @Test
    @Order(2)
    void aDelWhileTheVethStillExistsClosesItAndItsEntryGoesWithTheVeth() throws Exception {
        LocalEndpoint p = agent.endpoints().byPod("x", "p").orElseThrow();
        assertThat(kubelet.call("DEL", "x", "p").ok()).isTrue();
        assertThat(agent.endpoints().byPod("x", "p")).isEmpty();
        assertThat(agent.datapath().lookupEndpoint(p.ifindex()).orElseThrow().flags() & MapLayout.EP_AWAITING_POLICY)
                .as("closed, not detached").isNotZero();
        assertThat(agent.datapath().attached(p.ifindex())).isTrue();
        assertThat(connect("p")).as("a deleted pod whose veth lingers").isFalse();
        // DEL again: idempotent.
        assertThat(kubelet.call("DEL", "x", "p").ok()).isTrue();
        kubelet.stop("x", "p");
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.datapath().lookupEndpoint(p.ifindex()).isEmpty());
    }

    @Test
    @Order(3)
    void anUnreadableRecordAfterARestartLeavesItsInterfaceClosed() throws Exception {
        LocalEndpoint q = agent.endpoints().byPod("x", "q").orElseThrow();
        agent.close();
        Path records = config.stateDir().resolve("endpoints");
        try (var files = Files.list(records)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".attachment")).toList()) {
                if (Files.readString(file).contains("pod=q")) {
                    Files.writeString(file, "endpointId=not a number\n");
                }
            }
        }
        agent = Agent.start(config);
        assertThat(agent.endpoints().byPod("x", "q")).isEmpty();
        assertThat(agent.datapath().attached(q.ifindex())).as("the programs stay").isTrue();
        assertThat(agent.datapath().lookupEndpoint(q.ifindex()).orElseThrow().flags() & MapLayout.EP_AWAITING_POLICY)
                .isNotZero();
        assertThat(connect("q")).as("no record: closed").isFalse();
        try (var files = Files.list(records)) {
            assertThat(files.map(f -> f.getFileName().toString())).anyMatch(n -> n.endsWith(".unreadable"));
        }
    }
}
