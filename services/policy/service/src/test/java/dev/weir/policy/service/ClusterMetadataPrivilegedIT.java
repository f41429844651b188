package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.Agent;
import dev.weir.agent.AgentConfig;
import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.agent.state.DesiredState;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Cluster metadata through Kafka, end to end (root): fabric8's mock API server in CRUD mode stands
 * for the cluster. The policy service's one watch publishes its pods, namespaces, nodes and API
 * server addresses; the agent (which never talks to the API server) takes its pods' labels from
 * Kafka; namespace labels decide what a namespaceSelector matches, and relabelling a namespace
 * changes it on the datapath; a WeirNetworkPolicy custom resource is enforced; nodes and the API
 * server get their entities' identities in the node's ipcache.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterMetadataPrivilegedIT {

    static KubernetesMockServer api;
    static KubernetesClient client;
    static Platform platform;
    static ConfigurableApplicationContext service;
    static Agent agent;
    static Kubelet kubelet;
    static String node;
    static String prefix;
    static Process server;

    @BeforeAll
    static void start() throws Exception {
        node = "cm" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        prefix = "198.19." + ThreadLocalRandom.current().nextInt(1, 250) + ".";
        api = dev.weir.policy.service.kubernetes.MockApiServer.start();
        client = dev.weir.policy.service.kubernetes.MockApiServer.client(api);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("x")
                .withLabels(Map.of("kubernetes.io/metadata.name", "x", "team", "red")).endMetadata().build()).create();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("y")
                .withLabels(Map.of("kubernetes.io/metadata.name", "y")).endMetadata().build()).create();
        for (String[] n : new String[][] {{node, prefix + "250"}, {node + "-other", prefix + "251"}}) {
            client.nodes().resource(new NodeBuilder().withNewMetadata().withName(n[0]).endMetadata().withNewStatus()
                    .addNewAddress().withType("InternalIP").withAddress(n[1]).endAddress().endStatus().build()).create();
        }
        client.discovery().v1().endpointSlices().inNamespace("default").resource(new EndpointSliceBuilder()
                .withNewMetadata().withName("kubernetes").withNamespace("default")
                .withLabels(Map.of("kubernetes.io/service-name", "kubernetes")).endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses(prefix + "252").endEndpoint().build()).create();
        pod("x", "a", "10");
        pod("y", "b", "11");

        platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath())).start();
        Map<String, String> settings = platform.serviceSettings("policy");
        settings.put("server.port", "0");
        settings.put("weir.kubernetes.enabled", "true");
        service = new SpringApplicationBuilder(PolicyServiceApplication.class)
                .initializers(context -> ((org.springframework.context.support.GenericApplicationContext) context)
                        .registerBean("kubernetesClient", KubernetesClient.class, () -> client,
                                bean -> bean.setDestroyMethodName("")))
                .run(PolicyServiceApplication.arguments(settings));
        agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken()));
        kubelet = Kubelet.undescribed(node, NativeArtifacts.cniPlugin(), agent.config().cniSocket());
        kubelet.start(PodManifest.of("x", "a", prefix + "10"));
        kubelet.start(PodManifest.of("y", "b", prefix + "11"));
        server = new ProcessBuilder("ip", "netns", "exec", kubelet.network().namespaceOf("y", "b"), "socat", "-u",
                "TCP-LISTEN:8080,reuseaddr,fork", "/dev/null").start();
    }

    /** A pod of this node as the API server holds it: labels, a named port, its address, its owner. */
    static void pod(String namespace, String name, String octet) {
        client.pods().inNamespace(namespace).resource(new PodBuilder().withNewMetadata().withName(name)
                .withNamespace(namespace).withLabels(Map.of("app", name, "pod-template-hash", "5d4f"))
                .addNewOwnerReference().withApiVersion("apps/v1").withKind("ReplicaSet").withName(name + "-5d4f")
                .withController(true).withUid("rs-" + name).endOwnerReference().endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("main").withImage("busybox")
                .addNewPort().withName("http").withContainerPort(8080).endPort().endContainer().endSpec()
                .withNewStatus().withPodIP(prefix + octet).endStatus().build()).create();
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
        if (service != null) {
            service.close();
        }
        if (platform != null) {
            platform.close();
        }
        if (client != null) {
            client.close();
        }
        if (api != null) {
            api.destroy();
        }
        new ProcessBuilder("rm", "-rf", "/sys/fs/bpf/weir-" + node, "/run/weir/nodes/" + node).start().waitFor();
    }

    static boolean connect() throws Exception {
        return kubelet.execIn("x", "a", 10, "socat", "-u", "/dev/null", "TCP:" + prefix + "11:8080,connect-timeout=1")
                .exitCode() == 0;
    }

    static void label(String namespace, String team) {
        client.namespaces().withName(namespace).edit(ns -> {
            ns.getMetadata().getLabels().put("team", team);
            return ns;
        });
    }

    @Test
    @Order(1)
    void theAgentLearnsItsPodsFromKafkaAndTheEntitiesGetTheirIdentities() {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            var a = agent.endpoints().byPod("x", "a").orElseThrow();
            assertThat(a.spec().labels()).containsEntry("app", "a");
            assertThat(a.spec().workloadName()).isEqualTo("a");
            assertThat(a.spec().workloadKind()).isEqualTo("Deployment");
            assertThat(a.spec().namedPorts()).extracting(p -> p.name()).containsExactly("http");
        });
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(agent.desiredState().identityOf(prefix + "250")).as("this node").isEqualTo(DesiredState.HOST);
            assertThat(agent.desiredState().identityOf(prefix + "251")).as("the other node")
                    .isEqualTo(DesiredState.REMOTE_NODE);
            assertThat(agent.desiredState().identityOf(prefix + "252")).as("the API server").isEqualTo(7);
        });
        // Told ("no policy selects you"), a reaches b.
        await().atMost(Duration.ofSeconds(30)).until(ClusterMetadataPrivilegedIT::connect);
    }

    @Test
    @Order(2)
    void relabellingANamespaceChangesWhatANamespaceSelectorMatches() throws Exception {
        client.network().v1().networkPolicies().inNamespace("y").resource(client.getKubernetesSerialization().unmarshal("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: from-blue, namespace: y}
                spec:
                  podSelector: {matchLabels: {app: b}}
                  ingress:
                    - from: [{namespaceSelector: {matchLabels: {team: blue}}}]
                """, io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class)).create();
        await().atMost(Duration.ofSeconds(30)).until(() -> !connect());
        label("x", "blue");
        await().atMost(Duration.ofSeconds(30)).until(ClusterMetadataPrivilegedIT::connect);
        label("x", "red");
        await().atMost(Duration.ofSeconds(30)).until(() -> !connect());
        label("x", "blue");
        await().atMost(Duration.ofSeconds(30)).until(ClusterMetadataPrivilegedIT::connect);
    }

    @Test
    @Order(3)
    void aWeirNetworkPolicyResourceIsEnforcedAndItsDeletionLifted() throws Exception {
        GenericKubernetesResource deny = client.getKubernetesSerialization().unmarshal("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: deny-a, namespace: y}
                spec:
                  podSelector: {matchLabels: {app: b}}
                  ingressDeny:
                    - from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: a}}}]
                """, GenericKubernetesResource.class);
        var resources = client.genericKubernetesResources(
                dev.weir.policy.service.kubernetes.KubernetesPolicySource.WEIR_POLICIES).inNamespace("y");
        resources.resource(deny).create();
        await().atMost(Duration.ofSeconds(30)).until(() -> !connect());
        resources.withName("deny-a").delete();
        await().atMost(Duration.ofSeconds(30)).until(ClusterMetadataPrivilegedIT::connect);
    }

    @Test
    @Order(4)
    void aPodRemovedByItsRuntimeLeavesTheNodeAndTheApiServerDeleteLeavesTheTopic() throws Exception {
        kubelet.stop("x", "a");
        assertThat(agent.endpoints().byPod("x", "a")).isEmpty();
        client.pods().inNamespace("x").withName("a").delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> service.getBean(DesiredStateTopics.class).endpoints.keySet()
                .stream().noneMatch(k -> k.equals(node + "/x/a")));
    }

    @Test
    @Order(5)
    void aPodWhoseNamespaceIsNotDescribedYetStaysClosedUntilItIs() throws Exception {
        pod("z", "w", "20");
        kubelet.start(PodManifest.of("z", "w", prefix + "20"));
        var w = agent.endpoints().byPod("z", "w").orElseThrow();
        // Described and published, but its namespace is not: never compiled, never told.
        await().atMost(Duration.ofSeconds(30)).until(() -> service.getBean(DesiredStateTopics.class).endpoints
                .containsKey(node + "/z/w") && service.getBean(DesiredStateTopics.class).waitingForNamespace() == 1);
        assertThat(agent.endpoints().byId(w.endpointId()).orElseThrow().flags()
                & dev.weir.agent.datapath.MapLayout.EP_AWAITING_POLICY).as("still closed").isNotZero();
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("z")
                .withLabels(Map.of("kubernetes.io/metadata.name", "z")).endMetadata().build()).create();
        await().atMost(Duration.ofSeconds(30)).until(() -> (agent.endpoints().byId(w.endpointId()).orElseThrow().flags()
                & dev.weir.agent.datapath.MapLayout.EP_AWAITING_POLICY) == 0);
    }
}
