package dev.weir.standalone;

import dev.weir.common.kafka.KafkaAccess;
import dev.weir.agent.Agent;
import dev.weir.agent.AgentConfig;
import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.platform.ManagedProcess;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo cluster of the embedded platform: a node agent and a handful of pods in three
 * namespaces, made by the testbed's kubelet and handed to the agent through weir-cni as a
 * container runtime would hand them (a shop's frontend and cart, a payments API, and the cluster DNS), with a little
 * traffic among them every few seconds, including DNS lookups through a resolver with
 * {@code ndots:5}, so flows reach Kafka within seconds of "ready".
 *
 * <p>The policy service allocates the pods' identities; the demo applies one policy through its
 * REST API (the payments API takes gRPC from the cart only), so the frontend's attempts show as
 * drops.
 */
final class Demo implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Demo.class);
    static final String NODE = "node-1";
    static final String DNS_IP = "198.18.0.53";

    private record Pod(PodManifest spec, boolean resolver) {
    }

    private static final List<Pod> PODS = List.of(
            new Pod(new PodManifest("kube-system", "coredns", DNS_IP, Map.of("k8s-app", "kube-dns"), List.of(), "coredns",
                    "Deployment", null), false),
            new Pod(new PodManifest("shop", "frontend", "198.18.1.10", Map.of("app", "frontend"), List.of(), "frontend",
                    "Deployment", null), true),
            new Pod(new PodManifest("shop", "cart", "198.18.1.11", Map.of("app", "cart"),
                    List.of(new PodManifest.NamedPort("http", 8080, 6)), "cart", "Deployment", null), true),
            new Pod(new PodManifest("payments", "api", "198.18.2.10", Map.of("app", "payments-api"),
                    List.of(new PodManifest.NamedPort("grpc", 9090, 6)), "api", "Deployment", null), true));

    private final Agent agent;
    private final Kubelet kubelet;
    /** The second node of a two-node demo (weir.demo.nodes=2), or null. */
    private SecondNode second;
    private final List<ManagedProcess> processes = new ArrayList<>();
    private final Thread traffic;
    private volatile boolean running = true;

    private Demo(Agent agent, Kubelet kubelet) {
        this.agent = agent;
        this.kubelet = kubelet;
        this.traffic = new Thread(this::trafficLoop, "weir-demo-traffic");
        this.traffic.setDaemon(true);
    }

    /**
     * A second node of the demo: a network namespace with its own agent process, bpffs and pods
     * (shop/checkout, which calls the cart and, refused by the demo policy, the payments API),
     * routed to the first node through this machine.
     */
    private record SecondNode(dev.weir.testbed.NodeNamespace node, Process agent, Kubelet kubelet) implements AutoCloseable {
        static final String NAME = "node-2";

        static SecondNode start(dev.weir.platform.Platform platform, Path logs) throws Exception {
            String kafka = platform.kafka(KafkaAccess.AGENT.principal()).bootstrapServers();
            Path apiTokensFile = platform.apiTokensFile();
            dev.weir.testbed.NodeNamespace node = dev.weir.testbed.NodeNamespace.create(NAME, "198.18.250.1",
                    "198.18.250.2", "198.18.3.0/24");
            Process agent = null;
            try {
                node.forwardKafka(Integer.parseInt(kafka.substring(kafka.lastIndexOf(':') + 1)));
                java.nio.file.Files.createDirectories(logs);
                Path log = logs.resolve("agent-" + NAME + ".log");
                agent = node.start(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx160m",
                        "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "dev.weir.agent.Agent"), env(
                        "WEIR_NODE_NAME", NAME, "WEIR_KAFKA_BOOTSTRAP", kafka,
                        "WEIR_KAFKA_PROPERTIES_FILE", platform.kafkaPropertiesFile(KafkaAccess.AGENT.principal()).toString(),
                        "WEIR_BPF_PIN_ROOT", node.pinRoot().toString(),
                        "WEIR_STATE_DIR", node.stateDir().toString(), "WEIR_API_TOKENS_FILE", apiTokensFile.toString(),
                        "WEIR_OBSERVER_ADDRESS", "127.0.0.1:4244", "WEIR_METRICS_ADDRESS", "127.0.0.1:9965",
                        "WEIR_CLUSTER_DNS", DNS_IP, "WEIR_TLS_CERT_FILE", platform.serverCertificateChain().toString(),
                        "WEIR_TLS_KEY_FILE", platform.serverPrivateKey().toString()), log);
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!java.nio.file.Files.exists(log) || !java.nio.file.Files.readString(log).contains("weir-agent: running")) {
                    if (!agent.isAlive() || System.nanoTime() > deadline) {
                        throw new IllegalStateException(NAME + "'s agent did not start; see " + log);
                    }
                    Thread.sleep(200);
                }
                // The demo's kubelet describes pods as the cluster's metadata watcher (the policy service) does.
                Kubelet kubelet = node.kubelet(platform.kafka(KafkaAccess.POLICY.principal()), NativeArtifacts.cniPlugin());
                kubelet.start(new PodManifest("shop", "checkout", "198.18.3.10", Map.of("app", "checkout"), List.of(),
                        "checkout", "Deployment", "nameserver " + DNS_IP
                        + "\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 attempts:1 timeout:2\n"));
                return new SecondNode(node, agent, kubelet);
            } catch (Exception e) {
                if (agent != null) {
                    agent.destroyForcibly();
                }
                node.close();
                throw e;
            }
        }

        /** Environment variables from name-value pairs (more than Map.of takes). */
        static Map<String, String> env(String... pairs) {
            Map<String, String> env = new java.util.LinkedHashMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                env.put(pairs[i], pairs[i + 1]);
            }
            return env;
        }

        @Override
        public void close() {
            kubelet.stopAll();
            kubelet.close();
            agent.destroy();
            try {
                agent.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            agent.destroyForcibly();
            node.close();
        }
    }

    static Demo start(dev.weir.platform.Platform platform, Path dataDirectory, int policyPort) throws Exception {
        String apiToken = platform.apiToken();
        Agent agent = Agent.start(AgentConfig.of(NODE, platform.kafka(KafkaAccess.AGENT.principal()),
                Path.of("/sys/fs/bpf/weir"), dev.weir.common.auth.BearerTokens.load(null, platform.apiTokensFile()))
                .listeningOn("127.0.0.1:4244", "127.0.0.1:9965").withClusterDns(DNS_IP)
                .withTls(new dev.weir.common.tls.ServerTls.Files(platform.serverCertificateChain(), platform.serverPrivateKey())));
        Demo demo = new Demo(agent, Kubelet.of(NODE, platform.kafka(KafkaAccess.POLICY.principal()),
                NativeArtifacts.cniPlugin(), agent.config().cniSocket()));
        try {
            java.nio.file.Files.createDirectories(dataDirectory.resolve("demo"));
            java.nio.file.Files.setPosixFilePermissions(dataDirectory.resolve("demo"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            demo.createPods(dataDirectory.resolve("demo"));
            if (Integer.getInteger("weir.demo.nodes", 1) > 1) {
                demo.second = SecondNode.start(platform, dataDirectory.resolve("demo"));
            }
            applyPolicy(platform, policyPort, apiToken);
            demo.traffic.start();
            return demo;
        } catch (Exception e) {
            demo.close();
            throw e;
        }
    }

    /** The demo's policy: the payments API takes gRPC from the shop's cart only. */
    static final String POLICY = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: api-from-cart, namespace: payments}
            spec:
              podSelector: {matchLabels: {app: payments-api}}
              ingress:
                - from:
                    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
                      podSelector: {matchLabels: {app: cart}}
                  ports: [{port: grpc}]
            """;

    /** Applies the demo policy through the policy service's REST API, as a user would. */
    static void applyPolicy(dev.weir.platform.Platform platform, int policyPort, String apiToken) throws Exception {
        var client = java.net.http.HttpClient.newBuilder().sslContext(platform.clientTls()).build();
        var response = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(EmbeddedWeir.url(policyPort) + "/api/v1/policies"))
                .header("Authorization", "Bearer " + apiToken).header("Content-Type", "application/yaml")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(POLICY)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("applying the demo policy: " + response.statusCode() + " " + response.body());
        }
    }

    private void createPods(Path logs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<PodManifest> manifests = new ArrayList<>();
        for (Pod pod : PODS) {
            PodManifest spec = pod.spec();
            manifests.add(pod.resolver() ? spec.withResolvConf("nameserver " + DNS_IP + "\nsearch " + spec.namespace()
                    + ".svc.cluster.local svc.cluster.local cluster.local"
                    + "\noptions ndots:5 attempts:1 timeout:2\n") : spec);
        }
        // A crashed run's pods are kept (the agent adopted them), the missing ones are made.
        kubelet.reconcile(manifests);
        for (Pod pod : PODS) {
            PodManifest spec = pod.spec();
            String netns = kubelet.network().namespaceOf(spec.namespace(), spec.pod());
            if (spec.pod().equals("coredns")) {
                processes.add(ManagedProcess.start("demo-dns", List.of("ip", "netns", "exec", netns, java,
                        "-Xmx64m", "-cp", System.getProperty("java.class.path"), "dev.weir.testbed.DemoDnsServer", DNS_IP,
                        "cart.shop.svc.cluster.local=198.18.1.11", "api.payments.svc.cluster.local=198.18.2.10",
                        "frontend.shop.svc.cluster.local=198.18.1.10"), "TERM", logs.resolve("dns.log"), Map.of()));
            }
            for (PodManifest.NamedPort port : spec.namedPorts()) {
                processes.add(ManagedProcess.start("demo-" + spec.pod(), List.of("ip", "netns", "exec", netns,
                        "socat", "-u", "TCP-LISTEN:" + port.port() + ",reuseaddr,fork", "/dev/null"), "TERM",
                        logs.resolve(spec.pod() + ".log"), Map.of()));
            }
        }
    }

    /** A few requests every few seconds; bounded to a day of demo. */
    private void trafficLoop() {
        long deadline = System.nanoTime() + Duration.ofHours(24).toNanos();
        while (running && System.nanoTime() < deadline) {
            exec("shop", "frontend", "getent", "ahostsv4", "cart");
            exec("shop", "frontend", "socat", "-u", "/dev/null", "TCP:198.18.1.11:8080,connect-timeout=1");
            exec("shop", "cart", "getent", "ahostsv4", "api.payments");
            exec("shop", "cart", "socat", "-u", "/dev/null", "TCP:198.18.2.10:9090,connect-timeout=1");
            // Not allowed by the demo policy: dropped, and visible as a drop in the flows.
            exec("shop", "frontend", "socat", "-u", "/dev/null", "TCP:198.18.2.10:9090,connect-timeout=1");
            exec("shop", "frontend", "getent", "ahostsv4", "no-such-service");
            SecondNode other = second;
            if (other != null) {
                // From the second node: the cart is open to it, the payments API is not.
                execOn(other.kubelet(), "shop", "checkout", "getent", "ahostsv4", "cart");
                execOn(other.kubelet(), "shop", "checkout", "socat", "-u", "/dev/null", "TCP:198.18.1.11:8080,connect-timeout=1");
                execOn(other.kubelet(), "shop", "checkout", "socat", "-u", "/dev/null", "TCP:198.18.2.10:9090,connect-timeout=1");
            }
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void exec(String namespace, String pod, String... command) {
        execOn(kubelet, namespace, pod, command);
    }

    private static void execOn(Kubelet on, String namespace, String pod, String... command) {
        try {
            on.execIn(namespace, pod, 5, command);
        } catch (Exception e) {
            LOG.debug("demo traffic: {}", e.getMessage());
        }
    }

    Agent agent() {
        return agent;
    }

    List<String> podSummary() {
        List<String> pods = new ArrayList<>(agent.endpoints().endpoints().stream()
                .map(e -> e.spec().key() + "=" + e.spec().ip()).sorted().toList());
        if (second != null) {
            second.kubelet().pods().forEach(p -> pods.add(p.manifest().key() + "=" + p.manifest().ip() + "@" + SecondNode.NAME));
        }
        return pods;
    }

    @Override
    public void close() {
        running = false;
        traffic.interrupt();
        processes.forEach(p -> p.stop(Duration.ofSeconds(5)));
        if (second != null) {
            second.close();
        }
        kubelet.stopAll();
        kubelet.close();
        agent.close();
    }
}
