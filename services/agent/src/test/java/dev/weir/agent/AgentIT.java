package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import dev.weir.common.kafka.DeadLetter;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.PolicyMatchType;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.Identity;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.proto.state.v1.PolicyMapEntry;
import dev.weir.proto.state.v1.PolicyRevisionRef;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The agent on the real kernel and a real broker (root): two pods talk and their flows reach
 * Kafka enriched; a deny arriving as desired state is enforced and acknowledged; an undecodable
 * state record is dead-lettered and the next one still applied.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static final int ID_A = 3000;
    static final int ID_B = 3001;
    static String node;
    static String ipA;
    static String ipB;
    static Platform platform;
    static Agent agent;
    static Kubelet kubelet;
    static KafkaProducer<String, byte[]> producer;
    static TopicReader flows;
    static TopicReader acks;
    static TopicReader deadLetters;
    static LocalEndpoint a;
    static LocalEndpoint b;
    static String dnsIp;
    static Process server;

    @BeforeAll
    static void start() throws Exception {
        node = "it" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        int octet = ThreadLocalRandom.current().nextInt(1, 250);
        ipA = "198.19." + octet + ".10";
        ipB = "198.19." + octet + ".11";
        platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath())).start();
        producer = new KafkaProducer<>(KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "agent-it"));
        send(TopicId.IDENTITIES, Integer.toString(ID_A), Identity.newBuilder().setId(ID_A).addLabels("pod=a")
                .addLabels("k8s:io.kubernetes.pod.namespace=x").build().toByteArray());
        send(TopicId.IDENTITIES, Integer.toString(ID_B), Identity.newBuilder().setId(ID_B).addLabels("pod=b")
                .addLabels("k8s:io.kubernetes.pod.namespace=y").build().toByteArray());
        send(TopicId.IPCACHE, ipA + "/32", IpcacheEntry.newBuilder().setPrefix(ipA + "/32").setIdentity(ID_A).build().toByteArray());
        send(TopicId.IPCACHE, ipB + "/32", IpcacheEntry.newBuilder().setPrefix(ipB + "/32").setIdentity(ID_B).build().toByteArray());
        producer.flush();
        flows = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.FLOWS));
        acks = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.MAP_ACKS));
        deadLetters = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.DEAD_LETTER));

        // The same /24 as the pods (a String.replace of ".11" would also hit an octet like 113).
        dnsIp = ipB.substring(0, ipB.lastIndexOf('.')) + ".53";
        agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken()).withClusterDns(dnsIp));
        kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(), dev.weir.agent.datapath.NativeArtifacts.cniPlugin(),
                agent.config().cniSocket());
        a = add(new PodManifest("x", "a", ipA, Map.of("pod", "a"), List.of(), "a", "Deployment", null));
        b = add(new PodManifest("y", "b", ipB, Map.of("pod", "b"), List.of(), "b", "Deployment", null));
        // Pods are closed until told; no policy selects these two.
        tell(a);
        tell(b);
        server = new ProcessBuilder("nsenter", "--net=" + b.netns(), "socat", "-u", "TCP-LISTEN:8080,reuseaddr,fork",
                "/dev/null").redirectErrorStream(true).start();
        Thread.sleep(300);
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.destroyForcibly().waitFor();
        }
        for (TopicReader reader : new TopicReader[] {flows, acks, deadLetters}) {
            if (reader != null) {
                reader.close();
            }
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

    static void send(TopicId topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(CATALOGUE.name(topic), key, value)).get();
    }

    /** Publishes "no policy selects you" (revision 1) for an endpoint and waits until it is applied. */
    static void tell(LocalEndpoint endpoint) throws Exception {
        String key = node + "/" + endpoint.endpointId();
        send(TopicId.ENDPOINT_POLICY_STATE, key, EndpointPolicyState.newBuilder().setNodeName(node)
                .setEndpointId(endpoint.endpointId()).setNamespace(endpoint.spec().namespace())
                .setPodName(endpoint.spec().pod()).setRevision(1).build().toByteArray());
        await().atMost(Duration.ofSeconds(30)).until(() -> !acks.matching(r -> key.equals(r.key())
                && parseAck(r).getRevision() == 1).isEmpty());
    }

    static boolean connectAtoB() throws Exception {
        return kubelet.execIn("x", "a", 10, "socat", "-u", "/dev/null",
                "TCP:" + ipB + ":8080,connect-timeout=1").exitCode() == 0;
    }

    static List<Flow> flowsOfThisNode() {
        return flows.matching(r -> node.equals(r.key())).stream().map(r -> {
            try {
                return Flow.parseFrom(r.value());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    static MapApplyAck awaitAck(long revision) {
        String key = node + "/" + b.endpointId();
        await().atMost(Duration.ofSeconds(30)).until(() -> !acks.matching(r -> key.equals(r.key())
                && parseAck(r).getRevision() == revision).isEmpty());
        return parseAck(acks.matching(r -> key.equals(r.key()) && parseAck(r).getRevision() == revision).get(0));
    }

    static MapApplyAck parseAck(ConsumerRecord<String, byte[]> r) {
        try {
            return MapApplyAck.parseFrom(r.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @Order(1)
    void twoPodsTalkAndKafkaReceivesTheirFlowsEnriched() throws Exception {
        assertThat(connectAtoB()).as("pod a connects to pod b").isTrue();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<Flow> newConnections = flowsOfThisNode().stream()
                    .filter(f -> f.getEventType() == EventType.NEW_CONNECTION && f.getL4().getTcp().getDestinationPort() == 8080)
                    .toList();
            Flow egress = newConnections.stream().filter(f -> f.getTrafficDirection() == TrafficDirection.EGRESS)
                    .findFirst().orElseThrow();
            assertThat(egress.getVerdict()).isEqualTo(Verdict.FORWARDED);
            assertThat(egress.getSource().getNamespace()).isEqualTo("x");
            assertThat(egress.getSource().getPodName()).isEqualTo("a");
            assertThat(egress.getSource().getIdentity()).isEqualTo(ID_A);
            assertThat(egress.getSource().getLabelsList()).contains("pod=a");
            assertThat(egress.getDestination().getNamespace()).isEqualTo("y");
            assertThat(egress.getDestination().getPodName()).isEqualTo("b");
            assertThat(egress.getDestination().getIdentity()).isEqualTo(ID_B);
            assertThat(egress.getIp().getSource()).isEqualTo(ipA);
            assertThat(egress.getL4().getTcp().getFlags().getSyn()).isTrue();
            assertThat(egress.getPolicyMatchType()).isEqualTo(PolicyMatchType.POLICY_MATCH_NOT_ISOLATED);
            Flow ingress = newConnections.stream().filter(f -> f.getTrafficDirection() == TrafficDirection.INGRESS)
                    .findFirst().orElseThrow();
            assertThat(ingress.getSource().getPodName()).isEqualTo("a");
            assertThat(ingress.getDestination().getPodName()).isEqualTo("b");
            assertThat(ingress.getDestination().getWorkloads(0).getName()).isEqualTo("b");
        });
    }

    @Test
    @Order(2)
    void aDenyInDesiredStateIsEnforcedAndAcknowledged() throws Exception {
        EndpointPolicyState deny = EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(b.endpointId())
                .setNamespace("y").setPodName("b").setRevision(2).setIngressIsolated(true)
                .addEntries(PolicyMapEntry.newBuilder().setIdentity(ID_A).setDirection(Direction.DIRECTION_INGRESS)
                        .setDeny(true).setCookie(42))
                .addPolicies(PolicyRevisionRef.newBuilder().setNamespace("y").setName("deny-a").setKind("WeirPolicy")
                        .setRevision(7).addCookies(42))
                .build();
        send(TopicId.ENDPOINT_POLICY_STATE, node + "/" + b.endpointId(), deny.toByteArray());
        MapApplyAck ack = awaitAck(2);
        assertThat(ack.getStatus()).isEqualTo(AckStatus.APPLIED);
        assertThat(ack.getEntriesWritten()).isEqualTo(1);

        assertThat(connectAtoB()).as("pod a is denied").isFalse();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            Flow drop = flowsOfThisNode().stream().filter(f -> f.getVerdict() == Verdict.DROPPED
                    && f.getTrafficDirection() == TrafficDirection.INGRESS && ipA.equals(f.getIp().getSource()))
                    .findFirst().orElseThrow();
            assertThat(drop.getDropReason()).isEqualTo(DropReason.POLICY_DENY);
            assertThat(drop.getEventType()).isEqualTo(EventType.DROP);
            assertThat(drop.getSource().getPodName()).isEqualTo("a");
            assertThat(drop.getDestination().getPodName()).isEqualTo("b");
            assertThat(drop.getIngressDeniedByList()).singleElement().satisfies(ref -> {
                assertThat(ref.getName()).isEqualTo("deny-a");
                assertThat(ref.getRevision()).isEqualTo(7);
                assertThat(ref.getCookie()).isEqualTo(42);
            });
        });
    }

    @Test
    @Order(3)
    void anUndecodableStateRecordIsDeadLetteredAndTheNextOneApplied() throws Exception {
        String key = node + "/" + b.endpointId();
        send(TopicId.ENDPOINT_POLICY_STATE, key, new byte[] {0x08, (byte) 0x80});
        EndpointPolicyState allow = EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(b.endpointId())
                .setRevision(3).setIngressIsolated(true)
                .addEntries(PolicyMapEntry.newBuilder().setIdentity(ID_A).setPort(8080).setProtocol(Protocol.TCP)
                        .setDirection(Direction.DIRECTION_INGRESS).setCookie(43))
                .build();
        send(TopicId.ENDPOINT_POLICY_STATE, key, allow.toByteArray());
        await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters.matching(r -> key.equals(r.key())).isEmpty());
        ConsumerRecord<String, byte[]> dead = deadLetters.matching(r -> key.equals(r.key())).get(0);
        assertThat(DeadLetter.header(dead.headers(), DeadLetter.REASON))
                .startsWith("not a valid weir.state.v1.EndpointPolicyState");
        MapApplyAck ack = awaitAck(3);
        assertThat(ack.getStatus()).isEqualTo(AckStatus.APPLIED);
        assertThat(ack.getEntriesWritten()).isEqualTo(1);
        assertThat(ack.getEntriesDeleted()).isEqualTo(1);
        assertThat(connectAtoB()).as("pod a is allowed on 8080 again").isTrue();
        assertThat(agent.datapath().dumpPolicy(b.endpointId(), 16)).hasSize(1);
    }

    @Test
    @Order(4)
    void aRealResolverInAPodProducesDnsFlowsWithSearchPathExpansion() throws Exception {
        String clientIp = ipB.substring(0, ipB.lastIndexOf('.')) + ".12";
        LocalEndpoint dns = add(new PodManifest("kube-system", "coredns", dnsIp, Map.of("k8s-app", "kube-dns"),
                List.of(), "coredns", "Deployment", null));
        LocalEndpoint client = add(new PodManifest("x", "client", clientIp, Map.of("pod", "client"),
                List.of(), "client", "Deployment", "nameserver " + dnsIp
                + "\nsearch x.svc.cluster.local svc.cluster.local cluster.local\n"
                + "options ndots:5 attempts:1 timeout:2\n"));
        tell(dns);
        tell(client);
        Process dnsServer = new ProcessBuilder("nsenter", "--net=" + dns.netns(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", System.getProperty("java.class.path"),
                "dev.weir.testbed.DemoDnsServer", dnsIp, "web.y.svc.cluster.local=" + ipB)
                .redirectErrorStream(true).start();
        try {
            // The server prints a line once it listens.
            assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(dnsServer.getInputStream())).readLine())
                    .startsWith("dns: serving");
            var lookup = kubelet.execIn("x", "client", 20, "getent", "ahostsv4", "web.y");
            assertThat(lookup.exitCode()).as("getent: %s", lookup.output()).isZero();
            assertThat(lookup.output()).contains(ipB);
        } finally {
            dnsServer.destroyForcibly().waitFor();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<Flow> dnsFlows = flowsOfThisNode().stream().filter(f -> f.getEventType() == EventType.DNS).toList();
            // ndots:5: the name is first tried with the pod's namespace suffix, and does not exist.
            Flow nxdomain = dnsFlows.stream().filter(f -> f.getDns().getIsResponse()
                    && f.getDns().getQuery().equals("web.y.x.svc.cluster.local.")).findFirst().orElseThrow();
            assertThat(nxdomain.getDns().getRcode()).isEqualTo(3);
            assertThat(nxdomain.getDns().getQtypesList()).containsExactly("A");
            Flow query = dnsFlows.stream().filter(f -> !f.getDns().getIsResponse()
                    && f.getDns().getQuery().equals("web.y.svc.cluster.local.")).findFirst().orElseThrow();
            assertThat(query.getSource().getPodName()).isEqualTo("client");
            assertThat(query.getL4().getUdp().getDestinationPort()).isEqualTo(53);
            Flow answer = dnsFlows.stream().filter(f -> f.getDns().getIsResponse() && f.getDns().hasLatency()
                    && f.getDns().getQuery().equals("web.y.svc.cluster.local.")).findFirst().orElseThrow();
            assertThat(answer.getDns().getRcode()).isZero();
            assertThat(answer.getDns().getIpsList()).containsExactly(ipB);
            assertThat(answer.getDns().getTtl()).isEqualTo(30);
            long latencyNs = answer.getDns().getLatency().getSeconds() * 1_000_000_000L + answer.getDns().getLatency().getNanos();
            assertThat(latencyNs).isPositive().isLessThan(2_000_000_000L);
        });
        // The answer is published once for the policy service's toFQDNs rules, though the node saw it twice.
        try (TopicReader observations = new TopicReader(platform.kafkaBootstrapServers(),
                CATALOGUE.name(TopicId.DNS_OBSERVATIONS))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !observations.matching(
                    r -> r.key().equals("web.y.svc.cluster.local.")).isEmpty());
            Thread.sleep(500);
            var records = observations.matching(r -> r.key().equals("web.y.svc.cluster.local."));
            assertThat(records).hasSize(1);
            var observation = dev.weir.proto.dns.v1.DnsObservation.parseFrom(records.get(0).value());
            assertThat(observation.getIpsList()).containsExactly(ipB);
            assertThat(observation.getNodeName()).isEqualTo(node);
            assertThat(observations.matching(r -> r.key().equals("web.y.x.svc.cluster.local."))).isEmpty();
        }
    }

    @Test
    @Order(5)
    void theObserverApiAndMetricsAnswerOnlyWithTheToken() throws Exception {
        io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", agent.observerPort())
                .usePlaintext().build();
        try {
            io.grpc.Metadata auth = new io.grpc.Metadata();
            auth.put(dev.weir.common.auth.BearerTokenInterceptor.AUTHORIZATION, "Bearer " + platform.apiToken());
            var observer = dev.weir.proto.observer.v1.ObserverGrpc.newBlockingStub(channel)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
            var request = dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setNumber(5)
                    .addWhitelist(dev.weir.proto.observer.v1.FlowFilter.newBuilder().addEventType(EventType.DNS)
                            .addDnsQuery("*.svc.cluster.local"))
                    .build();
            List<Flow> got = new java.util.ArrayList<>();
            observer.getFlows(request).forEachRemaining(r -> got.add(r.getFlow()));
            assertThat(got).hasSizeBetween(1, 5).allMatch(f -> f.getEventType() == EventType.DNS);
            var status = observer.serverStatus(dev.weir.proto.observer.v1.ServerStatusRequest.getDefaultInstance());
            assertThat(status.getSeenFlows()).isPositive();
            assertThat(status.getNumEndpoints()).isEqualTo(4);

            // The same ring through Hubble's Observer API: DNS as L7 records, with `--protocol dns`'s filter.
            var hubble = dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(channel)
                    .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
            List<dev.weir.proto.hubble.flow.Flow> hubbleFlows = new java.util.ArrayList<>();
            hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(5)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addProtocol("dns")).build())
                    .forEachRemaining(r -> {
                        if (r.hasFlow()) {
                            hubbleFlows.add(r.getFlow());
                        }
                    });
            assertThat(hubbleFlows).hasSizeBetween(1, 5).allSatisfy(f -> {
                assertThat(f.getType()).isEqualTo(dev.weir.proto.hubble.flow.FlowType.L7);
                assertThat(f.getL7().getDns().getQuery()).isNotEmpty();
                assertThat(f.getNodeName()).isEqualTo(node);
            });
            assertThat(hubble.getNamespaces(dev.weir.proto.hubble.observer.GetNamespacesRequest.getDefaultInstance())
                    .getNamespacesCount()).isPositive();

            var anonymous = dev.weir.proto.observer.v1.ObserverGrpc.newBlockingStub(channel);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> anonymous.serverStatus(
                    dev.weir.proto.observer.v1.ServerStatusRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED));
        } finally {
            channel.shutdownNow();
        }
        var http = java.net.http.HttpClient.newHttpClient();
        var uri = java.net.URI.create("http://127.0.0.1:" + agent.metricsPort() + "/metrics");
        var refused = http.send(java.net.http.HttpRequest.newBuilder(uri).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        var metrics = http.send(java.net.http.HttpRequest.newBuilder(uri)
                .header("Authorization", "Bearer " + platform.apiToken()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("weir_flows_processed_total{subtype=\"to-endpoint\",type=\"DNS\",verdict=\"FORWARDED\"}")
                .containsPattern("weir_policy_verdicts_total\\{action=\"dropped\",direction=\"(ingress|egress)\",match=\"[a-z34-]+\"\\}")
                .containsPattern("weir_policy_verdicts_total\\{action=\"forwarded\",direction=\"egress\",match=\"[a-z34-]+\"\\}")
                .contains("weir_dns_responses_total{ips_returned=\"0\",qtypes=\"A\",rcode=\"NXDOMAIN\"}")
                .contains("weir_drop_total{protocol=\"TCP\",reason=\"POLICY_DENY\"}")
                .contains("weir_lost_events_total{source=\"AGENT_PUBLISH_BUFFER\"} 0.0")
                .contains("weir_datapath_packets_total{direction=\"egress\",reason=\"NONE\",verdict=\"FORWARDED\"}")
                .doesNotContainPattern("weir_datapath_packets_total\\{[^}]*verdict=\"[0-9]")
                .contains("weir_consumer_restarts_total{topic=\"weir.endpoint-policy-state.v1\"} 0.0");
        // Liveness and health answer without the token; every consumer loop runs.
        for (String path : new String[] {"/livez", "/healthz"}) {
            var probe = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                    + agent.metricsPort() + path)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(probe.statusCode()).as(path).isEqualTo(200);
        }
    }

    @Test
    @Order(6)
    void nothingWasLost() {
        assertThat(agent.lost().total()).isZero();
        assertThat(agent.metrics().scrape()).contains("weir_flows_processed_total").contains("weir_lost_events_total");
    }

    /** Starts the pod as a kubelet would (weir-cni ADD) and returns the endpoint the agent made of it. */
    static LocalEndpoint add(PodManifest manifest) throws Exception {
        kubelet.start(manifest);
        return agent.endpoints().byPod(manifest.namespace(), manifest.pod()).orElseThrow();
    }
}
