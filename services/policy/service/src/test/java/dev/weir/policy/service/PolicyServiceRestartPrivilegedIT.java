package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.Agent;
import dev.weir.agent.AgentConfig;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.NetnsSockets;
import dev.weir.testbed.PodManifest;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.dns.v1.DnsObservation;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The policy service stopped and restarted under a node's live traffic (root, real pods):
 * probes from a denied pod and an allowed pod go to pod b every 20 ms the whole time, and not one
 * denied probe arrives while the allowed ones keep arriving; a pod created while the service is
 * down reaches nothing but the cluster's DNS; the restarted service, whose replay is held back by
 * a backlog on one of its topics read through a slow broker (a consumer quota of 3 MB/s),
 * publishes no state until it has caught up and is not ready meanwhile, naming the topic; then
 * the new pod gets its state.
 */
class PolicyServiceRestartPrivilegedIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String ONLY_Z = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: only-z, namespace: y}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]
            """;

    @Test
    void aRestartWithASlowReplayNeverLoosensAnyEndpoint() throws Exception {
        String node = "pr" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        String prefix = "198.19." + ThreadLocalRandom.current().nextInt(1, 250) + ".";
        Path pins = Path.of("/sys/fs/bpf/weir-" + node);
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath()))
                .start();
                KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                        KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "restart-it"))) {
            Map<String, String> settings = platform.serviceSettings("policy");
            settings.put("server.port", "0");
            ConfigurableApplicationContext service = start(settings);
            Agent agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), pins, platform.apiToken())
                    .withClusterDns(prefix + "53"));
            Kubelet kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(),
                    dev.weir.agent.datapath.NativeArtifacts.cniPlugin(), agent.config().cniSocket());
            Process dns = null;
            AtomicBoolean probing = new AtomicBoolean(true);
            try {
                LocalEndpoint resolver = add(agent, kubelet, pod("kube-system", "coredns", prefix + "53"));
                LocalEndpoint a = add(agent, kubelet, pod("x", "a", prefix + "10"));
                LocalEndpoint b = add(agent, kubelet, pod("y", "b", prefix + "11"));
                LocalEndpoint c = add(agent, kubelet, pod("z", "c", prefix + "12"));
                dns = new ProcessBuilder("nsenter", "--net=" + resolver.netns(),
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                        System.getProperty("java.class.path"), "dev.weir.testbed.DemoDnsServer", prefix + "53",
                        "b.y.svc.cluster.local=" + prefix + "11").redirectErrorStream(true).start();
                assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(dns.getInputStream())).readLine())
                        .startsWith("dns: serving");
                String base = base(service);
                HttpResponse<String> applied = call("POST", base + "/api/v1/policies", ONLY_Z, platform.apiToken());
                assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);

                DatagramSocket atB = NetnsSockets.in(b.netns(), () -> new DatagramSocket(new InetSocketAddress(b.spec().ip(), 9000)));
                atB.setSoTimeout(200);
                DatagramSocket fromA = NetnsSockets.in(a.netns(), () -> new DatagramSocket(new InetSocketAddress(a.spec().ip(), 0)));
                DatagramSocket fromC = NetnsSockets.in(c.netns(), () -> new DatagramSocket(new InetSocketAddress(c.spec().ip(), 0)));
                AtomicLong fromDenied = new AtomicLong();
                AtomicLong fromAllowed = new AtomicLong();
                Thread receiver = new Thread(() -> {
                    byte[] buf = new byte[64];
                    while (probing.get()) {
                        DatagramPacket packet = new DatagramPacket(buf, buf.length);
                        try {
                            atB.receive(packet);
                        } catch (SocketTimeoutException e) {
                            continue;
                        } catch (Exception e) {
                            return;
                        }
                        String from = new String(buf, 0, packet.getLength(), StandardCharsets.UTF_8);
                        (from.equals("a") ? fromDenied : fromAllowed).incrementAndGet();
                    }
                });
                receiver.start();
                // The policy is in force once c's probes arrive and a's do not.
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    probe(fromA, b, "a");
                    probe(fromC, b, "c");
                    return fromAllowed.get() > 0;
                });
                Thread.sleep(300);
                fromDenied.set(0);
                Thread prober = new Thread(() -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                    while (probing.get() && System.nanoTime() < deadline) {
                        try {
                            probe(fromA, b, "a");
                            probe(fromC, b, "c");
                            Thread.sleep(20);
                        } catch (Exception e) {
                            return;
                        }
                    }
                });
                prober.start();

                service.close();
                // A pod created while the control plane is away: closed, but for DNS.
                LocalEndpoint d = add(agent, kubelet, new PodManifest("x", "d", prefix + "13", Map.of("app", "d"), List.of(),
                        "d", "Deployment", "nameserver " + prefix + "53\noptions ndots:1 attempts:1 timeout:2\n"));
                var lookup = kubelet.execIn("x", "d", 20, "getent", "ahostsv4", "b.y.svc.cluster.local");
                assertThat(lookup.exitCode()).as("d resolves names while closed: %s", lookup.output()).isZero();
                DatagramSocket atA = NetnsSockets.in(a.netns(), () -> new DatagramSocket(new InetSocketAddress(a.spec().ip(), 9001)));
                atA.setSoTimeout(500);
                DatagramSocket fromD = NetnsSockets.in(d.netns(), () -> new DatagramSocket(new InetSocketAddress(d.spec().ip(), 0)));
                probe(fromD, a, "d");
                assertThat(receivedOne(atA)).as("d reaches a, which nothing isolates, before d is told").isFalse();

                // A backlog on one topic the service replays, through a slow broker, holds its start back.
                long backlog = backlog(producer, 180_000);
                long statesBefore = policyStates(platform);
                quota(platform, 3_000_000.0);
                ConfigurableApplicationContext restarted;
                try {
                    restarted = start(settings);
                } catch (RuntimeException e) {
                    quota(platform, null);
                    throw e;
                }
                String readiness = "http://127.0.0.1:" + restarted.getEnvironment().getProperty("local.server.port")
                        + "/actuator/health/readiness";
                HttpResponse<String> notReady = HTTP.send(HttpRequest.newBuilder(URI.create(readiness)).build(),
                        HttpResponse.BodyHandlers.ofString());
                boolean sawNotReady = notReady.statusCode() == 503
                        && notReady.body().contains(CATALOGUE.name(TopicId.DNS_OBSERVATIONS));
                boolean publishedWhileReplaying = false;
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (!restarted.getBean(DesiredStateTopics.class).replayed() && System.nanoTime() < deadline) {
                    publishedWhileReplaying |= policyStates(platform) != statesBefore;
                    Thread.sleep(200);
                }
                quota(platform, null);
                try {
                    assertThat(sawNotReady).as("not ready while replaying %d records, naming the topic (%s)", backlog,
                            notReady.body()).isTrue();
                    assertThat(publishedWhileReplaying).as("a state published before the replay caught up").isFalse();
                    // Caught up: d is told "no policy selects you" and reaches a.
                    await().atMost(Duration.ofSeconds(60)).until(() -> {
                        probe(fromD, a, "d");
                        return receivedOne(atA);
                    });
                    Thread.sleep(500);
                } finally {
                    probing.set(false);
                    prober.join();
                    receiver.join();
                    restarted.close();
                }
                assertThat(fromDenied.get()).as("denied probes that arrived through the stop and the restart").isZero();
                assertThat(fromAllowed.get()).as("allowed probes that arrived meanwhile").isGreaterThan(100);
                atA.close();
                atB.close();
            } finally {
                probing.set(false);
                if (dns != null) {
                    dns.destroyForcibly().waitFor();
                }
                kubelet.stopAll();
                kubelet.close();
                agent.close();
                if (service.isActive()) {
                    service.close();
                }
                new ProcessBuilder("rm", "-rf", pins.toString(), "/run/weir/nodes/" + node).start().waitFor();
            }
        }
    }

    /** Starts the pod as a kubelet would (weir-cni ADD) and returns the endpoint the agent made of it. */
    static LocalEndpoint add(Agent agent, Kubelet kubelet, PodManifest manifest) throws Exception {
        kubelet.start(manifest);
        return agent.endpoints().byPod(manifest.namespace(), manifest.pod()).orElseThrow();
    }

    static ConfigurableApplicationContext start(Map<String, String> settings) {
        return new SpringApplicationBuilder(PolicyServiceApplication.class).run(PolicyServiceApplication.arguments(settings));
    }

    static String base(ConfigurableApplicationContext service) {
        return "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port");
    }

    static PodManifest pod(String namespace, String name, String ip) {
        return new PodManifest(namespace, name, ip, Map.of("app", name), List.of(), name, "Deployment", null);
    }

    static HttpResponse<String> call(String method, String url, String yaml, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/yaml").method(method, HttpRequest.BodyPublishers.ofString(yaml))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    static void probe(DatagramSocket from, LocalEndpoint to, String name) throws Exception {
        byte[] payload = name.getBytes(StandardCharsets.UTF_8);
        from.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(to.spec().ip(),
                to.spec().pod().equals("a") ? 9001 : 9000)));
    }

    static boolean receivedOne(DatagramSocket socket) throws Exception {
        try {
            socket.receive(new DatagramPacket(new byte[64], 64));
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /**
     * NXDOMAIN observations the service must read past at start (it keeps nothing of them), with
     * random names so that they hardly compress: about 150 bytes each on the wire. A quota
     * throttles after a fetch, so the backlog must be several times what the first fetch takes
     * (1 MB a partition).
     */
    static long backlog(KafkaProducer<String, byte[]> producer, int records) {
        String topic = CATALOGUE.name(TopicId.DNS_OBSERVATIONS);
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < records; i++) {
            String name = new java.math.BigInteger(960, random).toString(36) + ".example.";
            byte[] value = DnsObservation.newBuilder().setName(name).setRcode(3).setNodeName("elsewhere").build()
                    .toByteArray();
            producer.send(new ProducerRecord<>(topic, name, value));
        }
        producer.flush();
        return records;
    }

    /** Every consumer's fetch rate, bytes/s, as the broker enforces it (null: no quota). */
    static void quota(Platform platform, Double bytesPerSecond) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of("bootstrap.servers", platform.kafkaBootstrapServers()))) {
            var everyClient = new org.apache.kafka.common.quota.ClientQuotaEntity(
                    java.util.Collections.singletonMap(org.apache.kafka.common.quota.ClientQuotaEntity.CLIENT_ID, null));
            admin.alterClientQuotas(List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration(everyClient,
                    List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration.Op("consumer_byte_rate",
                            bytesPerSecond))))).all().get();
        }
    }

    /** Policy-state records published so far (an offset sum). */
    static long policyStates(Platform platform) {
        Map<String, Object> config = KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "restart-it-reader");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config)) {
            String topic = CATALOGUE.name(TopicId.ENDPOINT_POLICY_STATE);
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }
}
