package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.Agent;
import dev.weir.agent.AgentConfig;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
 * End to end on the embedded platform (root): a policy applied over REST is compiled, published,
 * enforced by a real agent on real pods, and its status shows the node's acknowledgement.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolicyServiceIT {

    static Platform platform;
    static Agent agent;
    static Kubelet kubelet;
    static ConfigurableApplicationContext service;
    static String node;
    static String ipA;
    static String ipB;
    static String base;
    static Process server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static final String DENY_X = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: only-z, namespace: y}
            spec:
              podSelector: {matchLabels: {app: b}}
              ingress:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]
            """;

    @BeforeAll
    static void start() throws Exception {
        node = "ps" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        int octet = ThreadLocalRandom.current().nextInt(1, 250);
        ipA = "198.19." + octet + ".30";
        ipB = "198.19." + octet + ".31";
        platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath())).start();
        Map<String, String> settings = platform.serviceSettings("policy");
        settings.put("server.port", "0");
        service = new SpringApplicationBuilder(PolicyServiceApplication.class).run(PolicyServiceApplication.arguments(settings));
        base = "http://127.0.0.1:" + service.getEnvironment().getProperty("local.server.port") + "/api/v1";
        agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken()));
        kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(), dev.weir.agent.datapath.NativeArtifacts.cniPlugin(),
                agent.config().cniSocket());
        add(new PodManifest("x", "a", ipA, Map.of("app", "a"), List.of(), "a", "Deployment", null));
        var b = add(new PodManifest("y", "b", ipB, Map.of("app", "b"),
                List.of(new PodManifest.NamedPort("http", 8080, 6)), "b", "Deployment", null));
        server = new ProcessBuilder("nsenter", "--net=" + b.netns(), "socat", "-u", "TCP-LISTEN:8080,reuseaddr,fork",
                "/dev/null").start();
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
        new ProcessBuilder("rm", "-rf", "/sys/fs/bpf/weir-" + node, "/run/weir/nodes/" + node).start().waitFor();
    }

    static HttpResponse<String> call(String method, String path, String contentType, String body, boolean token)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path).normalize())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        if (token) {
            request.header("Authorization", "Bearer " + platform.apiToken());
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static boolean connect() throws Exception {
        return kubelet.execIn("x", "a", 10, "socat", "-u", "/dev/null",
                "TCP:" + ipB + ":8080,connect-timeout=1").exitCode() == 0;
    }

    @Test
    @Order(1)
    void everyRequestNeedsTheToken() throws Exception {
        assertThat(call("GET", "/policies", null, null, false).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/policies", null, null, true).statusCode()).isEqualTo(200);
    }

    @Test
    @Order(1)
    void aReadTokenReadsAndPreviewsButCannotApplyAPolicyAndAHugeBodyIs413() throws Exception {
        String read = platform.apiToken(dev.weir.common.auth.Scope.READ);
        HttpResponse<String> list = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/policies"))
                .header("Authorization", "Bearer " + read).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(list.statusCode()).isEqualTo(200);
        HttpResponse<String> apply = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/policies"))
                .header("Authorization", "Bearer " + read).header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(DENY_X)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(apply.statusCode()).isEqualTo(403);
        // 50 MB declared: the answer comes before the client has sent any of it (the service reads none).
        URI uri = URI.create(base + "/policies");
        try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(10_000);
            long started = System.nanoTime();
            socket.getOutputStream().write(("POST " + uri.getPath() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + platform.apiToken() + "\r\nContent-Type: application/yaml\r\n"
                    + "Content-Length: " + (50L << 20) + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            assertThat(status).startsWith("HTTP/1.1 413");
            System.out.printf("a 50 MB policy body: 413 after %.1f ms, before a byte of it was sent%n",
                    (System.nanoTime() - started) / 1e6);
        }
        assertThat(call("GET", "/policies", null, null, true).body()).isEqualTo("[]");
    }

    @Test
    @Order(1)
    void theOpenApiDocumentDescribesEveryEndpointAndTheBearerScheme() throws Exception {
        HttpResponse<String> document = call("GET", "/../../v3/api-docs", null, null, true);
        assertThat(document.statusCode()).isEqualTo(200);
        assertThat(document.body()).contains("\"openapi\":\"3.").contains("Weir policy API")
                .contains("\"/api/v1/policies\"").contains("\"/api/v1/policies/preview\"").contains("\"/api/v1/explain\"")
                .contains("\"/api/v1/policies/{kind}/{namespace}/{name}/status\"").contains("\"scheme\":\"bearer\"");
        assertThat(call("GET", "/../../v3/api-docs", null, null, false).statusCode()).isEqualTo(401);
    }

    @Test
    @Order(2)
    void aMalformedPolicyIsA400NamingTheFieldAndNothingIsApplied() throws Exception {
        HttpResponse<String> response = call("POST", "/policies", "application/yaml",
                DENY_X + "---\n" + DENY_X.replace("only-z", "broken").replace("kubernetes.io/metadata.name: z}}}]",
                        "kubernetes.io/metadata.name: z}}}, {ipBlock: {cidr: 10.0.0.0/40}}]"), true);
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("\"field\":\"[1].spec.ingress[0].from[1].ipBlock.cidr\"");
        assertThat(call("GET", "/policies", null, null, true).body()).isEqualTo("[]");
    }

    @Test
    @Order(3)
    void anAppliedPolicyIsEnforcedByTheAgentAndItsStatusShowsTheAck() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(PolicyServiceIT::connect);
        HttpResponse<String> applied = call("POST", "/policies", "application/yaml", DENY_X, true);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        assertThat(applied.body()).contains("\"revision\":1").contains("\"changed\":true");

        // One status request that waits: answered once the agent has acknowledged the revision,
        // by which time its datapath drops the connection.
        HttpResponse<String> status = call("GET", "/policies/NetworkPolicy/y/only-z/status?wait=30&revision=1", null, null, true);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"revision\":1,").contains("\"endpoints\":1").contains("\"enforced\":1")
                .contains("\"settled\":true")
                .contains("\"node\":\"" + node + "\"").contains("\"nodesBehind\":[]");
        assertThat(connect()).isFalse();
        assertThat(call("GET", "/policies/NetworkPolicy/y/only-z/status?wait=61", null, null, true).body())
                .contains("\"field\":\"wait\"");

        HttpResponse<String> explain = call("POST", "/explain", "application/json",
                "{\"source\":\"x/a\",\"destination\":\"y/b\",\"port\":8080,\"protocol\":\"TCP\"}", true);
        assertThat(explain.body()).contains("\"verdict\":\"DROPPED\"").contains("\"isolated\":true")
                .contains("\"match\":\"NONE\"");

        // Applying the same policy again is no new revision.
        assertThat(call("POST", "/policies", "application/yaml", DENY_X, true).body()).contains("\"changed\":false");
    }

    @Test
    @Order(4)
    void aPreviewListsTheRecordedConnectionsWhoseVerdictWouldChange() throws Exception {
        String loosened = DENY_X.replace("- from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]",
                "- from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, "
                        + "values: [x, z]}]}}]");
        HttpResponse<String> preview = call("POST", "/policies/preview?minutes=5", "application/yaml", loosened, true);
        assertThat(preview.statusCode()).as(preview.body()).isEqualTo(200);
        assertThat(preview.body()).contains("\"source\":\"x/a\",\"destination\":\"y/b\",\"port\":8080,"
                + "\"protocol\":\"TCP\",\"before\":\"DROPPED\",\"after\":\"FORWARDED\"");
        // A preview changes nothing.
        assertThat(connect()).isFalse();
        assertThat(call("POST", "/policies/preview?minutes=5", "application/yaml", DENY_X, true).body())
                .contains("\"changes\":[]");
    }

    @Test
    @Order(5)
    void lintWarnsOfAnEgressDefaultDenyWithoutDnsAndOfAPolicyThatSelectsNoPod() throws Exception {
        HttpResponse<String> response = call("POST", "/policies?dryRun=true", "application/yaml", """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: lockdown, namespace: x}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: nobody, namespace: x}
                spec:
                  podSelector: {matchLabels: {app: nobody}}
                  ingress: [{ports: [{port: http}]}]
                """, true);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"dryRun\":true")
                .contains("\"field\":\"spec.egress\"").contains("isolates egress without allowing DNS")
                .contains("\"field\":\"spec.podSelector\"").contains("selects no pod");
        assertThat(call("GET", "/policies", null, null, true).body()).doesNotContain("lockdown");
    }

    @Test
    @Order(6)
    void deletingThePolicyLiftsTheDeny() throws Exception {
        assertThat(call("DELETE", "/policies/NetworkPolicy/y/only-z", null, null, true).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(PolicyServiceIT::connect);
        HttpResponse<String> detail = call("GET", "/policies/NetworkPolicy/y/only-z", null, null, true);
        assertThat(detail.statusCode()).isEqualTo(404);
    }

    @Test
    @Order(7)
    void toFqdnsAllowsWhatDnsAnsweredOnceAnAgentObservesTheAnswer() throws Exception {
        HttpResponse<String> applied = call("POST", "/policies", "application/yaml", """
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: to-b-by-name, namespace: x}
                spec:
                  podSelector: {matchLabels: {app: a}}
                  egress:
                    - toFQDNs: [{matchPattern: "*.y.example"}]
                      ports: [{port: 8080}]
                """, true);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> !connect());

        // What an agent publishes when a pod's lookup of b.y.example. is answered with b's address.
        var observation = dev.weir.proto.dns.v1.DnsObservation.newBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(java.time.Instant.now().getEpochSecond()))
                .setNodeName(node).setNamespace("x").setPodName("a").setName("b.y.example.").addIps(ipB).setTtl(30).build();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
                dev.weir.common.kafka.KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                    dev.weir.schemas.TopicCatalogue.standard().name(dev.weir.schemas.TopicId.DNS_OBSERVATIONS),
                    observation.getName(), observation.toByteArray())).get();
        }
        await().atMost(Duration.ofSeconds(30)).until(PolicyServiceIT::connect);
        assertThat(call("POST", "/explain", "application/json",
                "{\"source\":\"x/a\",\"destination\":\"y/b\",\"port\":8080,\"protocol\":\"TCP\"}", true).body())
                .contains("\"verdict\":\"FORWARDED\"").contains("WeirNetworkPolicy/x/to-b-by-name");
        assertThat(call("DELETE", "/policies/WeirNetworkPolicy/x/to-b-by-name", null, null, true).statusCode())
                .isEqualTo(200);
    }

    @Test
    @Order(8)
    void aStateKafkaRefusesIsAnErrorOnThePolicysStatusAndTheOldStateStays() throws Exception {
        // 6 address blocks × 15,000 single ports: a state record beyond Kafka's 1 MB request limit.
        StringBuilder ports = new StringBuilder();
        for (int port = 2000; port < 17000; port++) {
            ports.append(ports.length() == 0 ? "" : ", ").append("{port: ").append(port).append("}");
        }
        HttpResponse<String> applied = call("POST", "/policies", "application/yaml", """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: too-big, namespace: y}
                spec:
                  podSelector: {matchLabels: {app: b}}
                  ingress:
                    - from: [{ipBlock: {cidr: 203.0.113.0/28}}, {ipBlock: {cidr: 203.0.113.16/28}},
                             {ipBlock: {cidr: 203.0.113.32/28}}, {ipBlock: {cidr: 203.0.113.48/28}},
                             {ipBlock: {cidr: 203.0.113.64/28}}, {ipBlock: {cidr: 203.0.113.80/28}}]
                      ports: [%s]
                """.formatted(ports), true);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        assertThat(applied.body()).as("lint says it before the apply").contains("would need 90000 policy map entries");
        // A wait ends when Kafka refused the state: the revision has gone as far as it will.
        HttpResponse<String> status = call("GET", "/policies/NetworkPolicy/y/too-big/status?wait=60", null, null, true);
        assertThat(status.body()).contains("\"enforced\":0").contains("refused the record");
        // b never got it: a still connects, as before the apply.
        assertThat(connect()).isTrue();
        assertThat(call("DELETE", "/policies/NetworkPolicy/y/too-big", null, null, true).statusCode()).isEqualTo(200);
    }

    @Test
    @Order(9)
    void suggestedPoliciesWouldDropNothingTheTrafficDid() throws Exception {
        assertThat(connect()).isTrue();
        HttpResponse<String> suggested = call("GET", "/policies/suggestions?since=30m", null, null, true);
        assertThat(suggested.statusCode()).as(suggested.body()).isEqualTo(200);
        var result = tools.jackson.databind.json.JsonMapper.builder().build()
                .readValue(suggested.body(), dev.weir.api.policy.SuggestResult.class);
        assertThat(result.policies()).extracting(dev.weir.api.policy.SuggestedPolicy::name).contains("suggested-a", "suggested-b");
        assertThat(result.document()).contains("\"kubernetes.io/metadata.name\": \"x\"").contains("port: \"http\"");
        assertThat(result.preview().changes()).noneMatch(c -> c.after().equals("DROPPED"));
    }

    @Test
    @Order(10)
    void aStagedPolicyCountsWhatItWouldDropThenPromotedDropsItAndRestoredStopsDropping() throws Exception {
        String fromXAndZ = DENY_X.replace("only-z", "staged-only-z").replace(
                "- from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]",
                "- from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, "
                        + "values: [x, z]}]}}]");
        assertThat(call("POST", "/policies", "application/yaml", fromXAndZ, true).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                call("GET", "/policies/NetworkPolicy/y/staged-only-z/status", null, null, true).body()).contains("\"enforced\":1"));
        assertThat(connect()).isTrue();

        HttpResponse<String> staged = call("POST", "/policies?staged=true", "application/yaml",
                DENY_X.replace("only-z", "staged-only-z"), true);
        assertThat(staged.body()).contains("\"staged\":true");
        int connections = 5;
        for (int i = 0; i < connections; i++) {
            assertThat(connect()).as("staged, not enforced").isTrue();
        }
        // Each connection once (at a's egress), counted from the staging on, and no more.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                call("GET", "/policies/NetworkPolicy/y/staged-only-z/staged", null, null, true).body())
                .contains("\"wouldDrop\":" + connections)
                .contains("\"source\":\"x/a\",\"destination\":\"y/b\",\"port\":8080,\"protocol\":\"TCP\",\"flows\":"
                        + connections));
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).untilAsserted(() -> assertThat(
                call("GET", "/policies/NetworkPolicy/y/staged-only-z/staged", null, null, true).body())
                .contains("\"wouldDrop\":" + connections));
        assertThat(call("GET", "/policies/NetworkPolicy/y/staged-only-z/status", null, null, true).body())
                .contains("\"revision\":1").contains("\"wouldDrop\":" + connections);
        // The flows say so too: each, as the agent wrote it, with the staged policy that would drop it.
        List<dev.weir.proto.flow.v1.Flow> said = new java.util.ArrayList<>();
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]>(
                dev.weir.common.kafka.KafkaClients.consumerConfig(platform.kafkaBootstrapServers(), "it-staged-drops"))) {
            consumer.subscribe(List.of(dev.weir.schemas.TopicCatalogue.standard().name(dev.weir.schemas.TopicId.STAGED_DROPS)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    try {
                        said.add(dev.weir.proto.flow.v1.Flow.parseFrom(r.value()));
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        throw new AssertionError(e);
                    }
                });
                return said.size() >= connections;
            });
        }
        assertThat(said).hasSize(connections).allSatisfy(f -> {
            assertThat(f.getIp().getSource()).isEqualTo(ipA);
            assertThat(f.getStagedDeniedByList()).singleElement()
                    .satisfies(ref -> assertThat(ref.getName()).isEqualTo("staged-only-z"));
        });

        HttpResponse<String> preview = call("POST", "/policies/NetworkPolicy/y/staged-only-z/promote?dryRun=true&minutes=5",
                "application/json", "", true);
        assertThat(preview.body()).contains("\"dryRun\":true").contains("\"source\":\"x/a\",\"destination\":\"y/b\","
                + "\"port\":8080,\"protocol\":\"TCP\",\"before\":\"FORWARDED\",\"after\":\"DROPPED\"");
        assertThat(connect()).as("a preview changes nothing").isTrue();
        HttpResponse<String> promoted = call("POST", "/policies/NetworkPolicy/y/staged-only-z/promote", "application/json", "",
                true);
        assertThat(promoted.body()).contains("\"revision\":2");
        await().atMost(Duration.ofSeconds(30)).until(() -> !connect());
        assertThat(call("POST", "/explain", "application/json",
                "{\"source\":\"x/a\",\"destination\":\"y/b\",\"port\":\"http\",\"protocol\":\"TCP\"}", true).body())
                .contains("\"verdict\":\"DROPPED\"").contains("\"policy\":\"NetworkPolicy/y/staged-only-z\",\"rules\":1,\"matched\":[]");
        assertThat(call("GET", "/policies/staged", null, null, true).body()).isEqualTo("[]");

        HttpResponse<String> restored = call("POST", "/policies/NetworkPolicy/y/staged-only-z/restore", "application/json", "",
                true);
        assertThat(restored.body()).contains("\"revision\":3");
        await().atMost(Duration.ofSeconds(30)).until(PolicyServiceIT::connect);
        assertThat(call("DELETE", "/policies/NetworkPolicy/y/staged-only-z", null, null, true).statusCode()).isEqualTo(200);
    }

    /** Starts the pod as a kubelet would (weir-cni ADD) and returns the endpoint the agent made of it. */
    static LocalEndpoint add(PodManifest manifest) throws Exception {
        kubelet.start(manifest);
        return agent.endpoints().byPod(manifest.namespace(), manifest.pod()).orElseThrow();
    }
}
