package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.Agent;
import dev.weir.agent.AgentConfig;
import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.state.v1.Pod;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import dev.weir.testbed.PodDescriptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Weir where a container runtime makes the pods (root): Debian's podman (CNI backend, runc)
 * runs BusyBox containers from a local root filesystem on two CNI networks of Debian's
 * plugins: one chains weir-cni after {@code bridge} + {@code host-local}, the other runs
 * weir-cni standalone with {@code host-local}. The containers get Weir's datapath before their
 * first packet; their flows reach Kafka named by namespace and pod; a NetworkPolicy applied over
 * REST is enforced between them; an agent stopped keeps enforcing, and the next one adopts the
 * containers; removing a container removes its endpoint.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerRuntimePrivilegedIT {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static String node;
    static String tag;
    static Path dir;
    static Platform platform;
    static ConfigurableApplicationContext service;
    static String base;
    static AgentConfig agentConfig;
    static Agent agent;
    static PodDescriptions descriptions;
    static String chainedSubnet;
    static String standaloneSubnet;
    static String bridge;
    static KafkaConsumer<String, byte[]> flowConsumer;
    static final List<Flow> flows = new CopyOnWriteArrayList<>();
    static Thread flowReader;
    static volatile boolean reading = true;

    static final String REQUEST = "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ";

    static final String WEB_POLICY = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-client, namespace: default}
            spec:
              podSelector: {matchLabels: {app: %s}}
              ingress:
                - from: [{podSelector: {matchLabels: {app: %s}}}]
                  ports: [{port: 8080}]
            """;

    @BeforeAll
    static void start() throws Exception {
        String hex = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        node = "cr" + hex;
        tag = hex;
        int octet = ThreadLocalRandom.current().nextInt(1, 250);
        chainedSubnet = "198.19." + octet + ".";
        standaloneSubnet = "198.18." + (octet + 3) + ".";
        bridge = "wb" + hex;
        dir = Path.of("target", "it-" + node).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        Map<String, String> settings = platform.serviceSettings("policy");
        settings.put("server.port", "0");
        service = new SpringApplicationBuilder(PolicyServiceApplication.class).run(PolicyServiceApplication.arguments(settings));
        base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1";
        agentConfig = AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken());
        agent = Agent.start(agentConfig);
        descriptions = new PodDescriptions(platform.kafkaBootstrapServers(), "cr-it");
        writeRuntimeConfiguration();
        flowConsumer = new KafkaConsumer<>(KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "cr-it-" + hex));
        flowConsumer.subscribe(List.of(CATALOGUE.name(TopicId.FLOWS)));
        flowReader = new Thread(() -> {
            while (reading) {
                for (ConsumerRecord<String, byte[]> record : flowConsumer.poll(Duration.ofMillis(200))) {
                    try {
                        flows.add(Flow.parseFrom(record.value()));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            flowConsumer.close();
        }, "cr-it-flows");
        flowReader.start();
    }

    @AfterAll
    static void stop() throws Exception {
        for (String name : List.of("web", "client", "other", "web2", "client2", "other2")) {
            podman(30, "rm", "-f", "-t", "0", name + "-" + tag);
        }
        reading = false;
        if (flowReader != null) {
            flowReader.join(5000);
        }
        if (descriptions != null) {
            descriptions.close();
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
        new ProcessBuilder("sh", "-c", "ip link del " + bridge + " 2>/dev/null; rm -rf /sys/fs/bpf/weir-" + node
                + " /run/weir/nodes/" + node).start().waitFor();
    }

    /**
     * Podman with the CNI backend, its storage and state under this test's directory; the plugin
     * directory holds Debian's bridge, host-local and loopback and the weir-cni the build made.
     */
    static void writeRuntimeConfiguration() throws IOException {
        Path bin = Files.createDirectories(dir.resolve("cni-bin"));
        for (String plugin : List.of("bridge", "host-local", "loopback")) {
            Files.deleteIfExists(bin.resolve(plugin));
            Files.createSymbolicLink(bin.resolve(plugin), Path.of("/usr/lib/cni", plugin));
        }
        // A link, not a copy: a file just written may still be open in a child another thread forks,
        // and executing it then fails with ETXTBSY.
        Files.deleteIfExists(bin.resolve("weir-cni"));
        Files.createSymbolicLink(bin.resolve("weir-cni"), NativeArtifacts.cniPlugin());
        Path net = Files.createDirectories(dir.resolve("cni-net"));
        Path ipam = dir.resolve("ipam");
        Files.writeString(net.resolve("chained.conflist"), """
                {"cniVersion": "1.0.0", "name": "chained-%1$s", "plugins": [
                  {"type": "bridge", "bridge": "%2$s", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "dataDir": "%3$s", "ranges": [[{"subnet": "%4$s0/24"}]],
                            "routes": [{"dst": "198.18.0.0/15"}]}},
                  {"type": "weir-cni"}]}
                """.formatted(tag, bridge, ipam, chainedSubnet));
        Files.writeString(net.resolve("standalone.conflist"), """
                {"cniVersion": "1.0.0", "name": "standalone-%1$s", "plugins": [
                  {"type": "weir-cni",
                   "ipam": {"type": "host-local", "dataDir": "%2$s", "ranges": [[{"subnet": "%3$s0/24"}]],
                            "routes": [{"dst": "198.18.0.0/15"}]}}]}
                """.formatted(tag, ipam, standaloneSubnet));
        Files.writeString(dir.resolve("containers.conf"), """
                [containers]
                default_ulimits = []
                [engine]
                tmp_dir = "%1$s/podman-tmp"
                [network]
                network_backend = "cni"
                cni_plugin_dirs = ["%2$s"]
                network_config_dir = "%3$s"
                """.formatted(dir, bin, net));
        Files.writeString(dir.resolve("storage.conf"), """
                [storage]
                driver = "vfs"
                runroot = "%1$s/podman-run"
                graphroot = "%1$s/podman-storage"
                """.formatted(dir));
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/usr/bin/busybox"), rootfs.resolve("busybox"), StandardCopyOption.REPLACE_EXISTING);
        for (String applet : List.of("sh", "sleep", "nc", "printf", "httpd", "cat")) {
            Files.deleteIfExists(rootfs.resolve(applet));
            Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
        }
        Files.createDirectories(dir.resolve("rootfs/www"));
        Files.writeString(dir.resolve("rootfs/www/index.html"), "weir\n");
        for (String d : List.of("proc", "sys", "dev", "etc", "tmp")) {
            Files.createDirectories(dir.resolve("rootfs").resolve(d));
        }
    }

    record Outcome(int exitCode, String output) {
    }

    static Outcome podman(long timeoutSeconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.put("CONTAINERS_CONF", dir.resolve("containers.conf").toString());
        env.put("CONTAINERS_STORAGE_CONF", dir.resolve("storage.conf").toString());
        env.put("WEIR_CNI_SOCKET", agentConfig.cniSocket().toString());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Outcome(-1, out);
        }
        return new Outcome(process.exitValue(), out);
    }

    /** The cluster describes the pod (labels), then the runtime runs it. */
    static void run(String name, String network, String app, String... command) throws Exception {
        descriptions.publish(Pod.newBuilder().setNamespace("default").setName(name + "-" + tag).setNodeName(node)
                .putLabels("app", app).setWorkloadName(name).setWorkloadKind("Deployment").build());
        List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name + "-" + tag, "--network",
                network + "-" + tag, "--rootfs", dir.resolve("rootfs").toString()));
        args.addAll(List.of(command));
        Outcome started = podman(60, args.toArray(String[]::new));
        assertThat(started.exitCode()).as("podman run %s: %s", name, started.output()).isZero();
    }

    static LocalEndpoint endpoint(String name) {
        return agent.endpoints().byPod("default", name + "-" + tag).orElseThrow();
    }

    static boolean fetch(String from, String toIp) throws Exception {
        // BusyBox's static wget crashes in its resolver; nc speaks HTTP well enough.
        return podman(20, "exec", from + "-" + tag, "/bin/sh", "-c", REQUEST + toIp + " 8080").output().contains("weir");
    }

    static HttpResponse<String> apply(String yaml) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/policies"))
                .header("Authorization", "Bearer " + platform.apiToken()).header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(yaml)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(1)
    void containersChainedAfterBridgeGetTheDatapathAndTheirFlowsAreNamed() throws Exception {
        run("web", "chained", "web", "/bin/httpd", "-f", "-p", "8080", "-h", "/www");
        String webIp = endpoint("web").spec().ip();
        // The client's very first connection, made by its entrypoint, is seen by the datapath.
        run("client", "chained", "client", "/bin/sh", "-c", REQUEST + webIp + " 8080; exec sleep 600");
        run("other", "chained", "other", "/bin/sleep", "600");
        for (String name : List.of("web", "client", "other")) {
            LocalEndpoint e = endpoint(name);
            assertThat(e.spec().ip()).startsWith(chainedSubnet);
            assertThat(e.hostInterface()).as("the bridge's host-side veth").startsWith("veth");
            assertThat(agent.endpoints().check(e.attachment().containerId(), "eth0")).isEmpty();
        }
        String clientIp = endpoint("client").spec().ip();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(flows).anyMatch(f ->
                f.getIp().getSource().equals(clientIp) && f.getIp().getDestination().equals(webIp)
                        && f.getL4().hasTcp() && f.getL4().getTcp().getDestinationPort() == 8080
                        && f.getSource().getNamespace().equals("default")
                        && f.getSource().getPodName().equals("client-" + tag)));
        // Told by the policy service ("no policy selects you"), every container reaches web.
        await().atMost(Duration.ofSeconds(60)).until(() -> fetch("client", webIp) && fetch("other", webIp));
    }

    @Test
    @Order(2)
    void aNetworkPolicyBetweenContainersIsEnforced() throws Exception {
        String webIp = endpoint("web").spec().ip();
        HttpResponse<String> applied = apply(WEB_POLICY.formatted("web", "client"));
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> !fetch("other", webIp));
        assertThat(fetch("client", webIp)).as("the allowed client").isTrue();
        String otherIp = endpoint("other").spec().ip();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(flows).anyMatch(f ->
                f.getIp().getSource().equals(otherIp) && f.getIp().getDestination().equals(webIp)
                        && f.getVerdict() == dev.weir.proto.flow.v1.Verdict.DROPPED
                        && f.getDestination().getPodName().equals("web-" + tag)));
    }

    @Test
    @Order(3)
    void aStoppedAgentKeepsEnforcingAndTheNextOneAdoptsTheContainers() throws Exception {
        String webIp = endpoint("web").spec().ip();
        Map<String, Integer> ids = new HashMap<>();
        for (String name : List.of("web", "client", "other")) {
            ids.put(name, endpoint(name).endpointId());
        }
        agent.close();
        agent = null;
        assertThat(fetch("other", webIp)).as("denied while no agent runs").isFalse();
        assertThat(fetch("client", webIp)).as("allowed while no agent runs").isTrue();
        // A pod started meanwhile is not started: weir-cni says "try again later".
        Outcome refused = podman(60, "run", "-d", "--name", "web2-" + tag, "--network", "chained-" + tag, "--rootfs",
                dir.resolve("rootfs").toString(), "/bin/sleep", "600");
        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).contains("try again later");
        podman(30, "rm", "-f", "-t", "0", "web2-" + tag);

        agent = Agent.start(agentConfig);
        for (String name : List.of("web", "client", "other")) {
            assertThat(endpoint(name).endpointId()).as("%s keeps its endpoint id", name).isEqualTo(ids.get(name));
            assertThat(agent.endpoints().check(endpoint(name).attachment().containerId(), "eth0")).isEmpty();
        }
        assertThat(fetch("other", webIp)).as("denied after the restart").isFalse();
        assertThat(fetch("client", webIp)).as("allowed after the restart").isTrue();
    }

    @Test
    @Order(4)
    void removingAContainerRemovesItsEndpoint() throws Exception {
        LocalEndpoint other = endpoint("other");
        assertThat(podman(30, "rm", "-f", "-t", "0", "other-" + tag).exitCode()).isZero();
        assertThat(agent.endpoints().byPod("default", "other-" + tag)).isEmpty();
        // Closed at DEL (the bridge plugin removes the veth after weir-cni's DEL), gone with the veth.
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.datapath().lookupEndpoint(other.ifindex()).isEmpty());
    }

    @Test
    @Order(5)
    void standaloneTheAgentMakesTheVethAndHostLocalGivesTheAddress() throws Exception {
        run("web2", "standalone", "web2", "/bin/httpd", "-f", "-p", "8080", "-h", "/www");
        run("client2", "standalone", "client2", "/bin/sleep", "600");
        run("other2", "standalone", "other2", "/bin/sleep", "600");
        LocalEndpoint web = endpoint("web2");
        assertThat(web.spec().ip()).startsWith(standaloneSubnet);
        assertThat(web.hostInterface()).startsWith("wr");
        assertThat(web.attachment().ownsInterface()).isTrue();
        String webIp = web.spec().ip();
        await().atMost(Duration.ofSeconds(60)).until(() -> fetch("client2", webIp) && fetch("other2", webIp));
        // Across the two networks too: a chained pod reaches a standalone one (both routed by the node).
        await().atMost(Duration.ofSeconds(30)).until(() -> fetch("client", webIp));

        HttpResponse<String> applied = apply(WEB_POLICY.replace("web-from-client", "web2-from-client2")
                .formatted("web2", "client2"));
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> !fetch("other2", webIp));
        assertThat(fetch("client2", webIp)).isTrue();

        assertThat(podman(30, "rm", "-f", "-t", "0", "web2-" + tag).exitCode()).isZero();
        assertThat(agent.endpoints().byPod("default", "web2-" + tag)).isEmpty();
        assertThat(Files.exists(Path.of("/sys/class/net", web.hostInterface()))).as("the veth Weir made").isFalse();
    }
}
