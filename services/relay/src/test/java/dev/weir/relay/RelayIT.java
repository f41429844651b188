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
    static com.sun.net.httpserver.HttpServer standInDns;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "it-relay-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        Map<String, String> settings = platform.serviceSettings("relay");
        settings.put("server.port", "0");
        settings.put("weir.grpc-port", "0");
        settings.put("weir.service-cidrs", "198.19.128.0/20");
        standInDns = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        standInDns.createContext("/", exchange -> {
            byte[] body = ("{\"path\":\"" + exchange.getRequestURI() + "\",\"auth\":"
                    + (("Bearer " + platform.apiToken()).equals(exchange.getRequestHeaders().getFirst("Authorization")))
                    + ",\"cookie\":" + exchange.getRequestHeaders().containsKey("Cookie")
                    + ",\"author\":" + exchange.getRequestHeaders().containsKey("X-Weir-Author")
                    + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        standInDns.start();
        settings.put("weir.dns-api", "http://127.0.0.1:" + standInDns.getAddress().getPort());
        // Nothing listens here: the gateway's answer for a service that is down.
        settings.put("weir.alerting-api", "http://127.0.0.1:" + dev.weir.platform.FreePorts.next());
        relay = new SpringApplicationBuilder(RelayApplication.class).run(RelayApplication.arguments(settings));
        base = "http://127.0.0.1:" + relay.getEnvironment().getProperty("local.server.port");
        long now = System.currentTimeMillis();
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it"))) {
            // Connections judged on both sides, as the datapath reports them: the sender's egress,
            // the receiver's ingress, DNS messages, replies and closes. The map counts each once.
            // Twelve minutes ago (written first: a topic holds flows roughly in time order), out of
            // the other tests' ranges.
            for (int i = 0; i < 5; i++) {
                long at = now - 12 * 60_000 + i * 10;
                for (Flow flow : connection(at, "shop", "cart", "198.18.1.11", "payments", "api", "198.18.2.10", 9443, false)) {
                    producer.send(new ProducerRecord<>(topic, null, at, flow.getNodeName(), flow.toByteArray()));
                }
            }
            for (int i = 0; i < 3; i++) {
                long at = now - 12 * 60_000 + 500 + i * 10;
                for (Flow flow : connection(at, "shop", "cart", "198.18.1.11", "kube-system", "coredns", "198.18.0.53", 53, true)) {
                    producer.send(new ProducerRecord<>(topic, null, at, flow.getNodeName(), flow.toByteArray()));
                }
            }
            // Through a Service's address (judged at the sender before translation, then at the
            // backend), and an audited drop at the sender that the receiver then forwards.
            long viaService = now - 12 * 60_000 + 800;
            for (Flow flow : java.util.List.of(
                    connection(viaService, "shop", "cart", "198.18.1.11", "", "", "198.19.128.10", 53, true).get(0),
                    connection(viaService, "shop", "cart", "198.18.1.11", "kube-system", "coredns", "198.18.0.53", 53, true)
                            .get(1),
                    connection(viaService + 5, "shop", "cart", "198.18.1.11", "payments", "api", "198.18.2.10", 9443, false)
                            .get(0).toBuilder().setEventType(EventType.DROP).setVerdict(Verdict.AUDIT)
                            .setDropReason(DropReason.POLICY_DENIED).setUuid("audited").build(),
                    connection(viaService + 5, "shop", "cart", "198.18.1.11", "payments", "api", "198.18.2.10", 9443, false)
                            .get(1).toBuilder().setUuid("audited-ingress").build())) {
                producer.send(new ProducerRecord<>(topic, null, viaService, flow.getNodeName(), flow.toByteArray()));
            }
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
            String nodes = TopicCatalogue.standard().name(TopicId.NODE_STATUS);
            producer.send(new ProducerRecord<>(nodes, "node-a", heartbeat("node-a", now, 100, 2).toByteArray()));
            producer.send(new ProducerRecord<>(nodes, "node-b", heartbeat("node-b", now - 120_000, 50, 0).toByteArray()));
        }
    }

    static dev.weir.proto.state.v1.NodeStatus heartbeat(String node, long atMs, long seen, long lost) {
        return dev.weir.proto.state.v1.NodeStatus.newBuilder().setNodeName(node).setVersion("0.1.0")
                .setTime(Timestamp.newBuilder().setSeconds(atMs / 1000)).setFlowsSeen(seen).setFlowsLost(lost)
                .setEndpoints(3).setMaxMapPressure(0.25).build();
    }

    static Flow flow(long atMs, String node, Verdict verdict, int port) {
        return Flow.newBuilder().setTime(Timestamp.newBuilder().setSeconds(atMs / 1000).setNanos((int) (atMs % 1000) * 1_000_000))
                .setUuid(node + "-" + atMs + "-" + port).setNodeName(node).setVerdict(verdict).setEventType(EventType.NEW_CONNECTION)
                .setSource(Endpoint.newBuilder().setNamespace("shop").setPodName("frontend-7d9f")
                        .addWorkloads(Workload.newBuilder().setName("frontend").setKind("Deployment")))
                .setDestination(Endpoint.newBuilder().setNamespace(port == 9090 ? "payments" : "shop")
                        .setPodName(port == 9090 ? "api-5c4b" : "cart-1a2b")
                        .addWorkloads(Workload.newBuilder().setName(port == 9090 ? "api" : "cart").setKind("Deployment")))
                .setIp(IP.newBuilder().setSource("198.18.1.10").setDestination(port == 9090 ? "198.18.2.10" : "198.18.1.11"))
                .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(40000).setDestinationPort(port)))
                .build();
    }

    /**
     * The flows of one connection from a pod to a pod, as both agents report it: egress and
     * ingress of the opening packet, for UDP/53 a DNS request on each side and a response, a reply
     * and (TCP) a close.
     */
    static java.util.List<Flow> connection(long atMs, String fromNs, String from, String fromIp, String toNs, String to,
            String toIp, int port, boolean udp) {
        java.util.List<Flow> flows = new java.util.ArrayList<>();
        Layer4 l4 = udp ? Layer4.newBuilder().setUdp(dev.weir.proto.flow.v1.UDP.newBuilder().setSourcePort(41000)
                .setDestinationPort(port)).build()
                : Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(41000).setDestinationPort(port)).build();
        Layer4 back = udp ? Layer4.newBuilder().setUdp(dev.weir.proto.flow.v1.UDP.newBuilder().setSourcePort(port)
                .setDestinationPort(41000)).build()
                : Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(port).setDestinationPort(41000)).build();
        Endpoint source = Endpoint.newBuilder().setNamespace(fromNs).setPodName(from + "-1")
                .addWorkloads(Workload.newBuilder().setName(from).setKind("Deployment")).build();
        Endpoint destination = Endpoint.newBuilder().setNamespace(toNs).setPodName(to + "-1")
                .addWorkloads(Workload.newBuilder().setName(to).setKind("Deployment")).build();
        Flow.Builder forward = Flow.newBuilder().setNodeName("node-1").setVerdict(Verdict.FORWARDED).setSource(source)
                .setDestination(destination).setIp(IP.newBuilder().setSource(fromIp).setDestination(toIp)).setL4(l4);
        Flow.Builder reply = forward.clone().setSource(destination).setDestination(source).setIsReply(true)
                .setIp(IP.newBuilder().setSource(toIp).setDestination(fromIp)).setL4(back);
        var egress = dev.weir.proto.flow.v1.TrafficDirection.EGRESS;
        var ingress = dev.weir.proto.flow.v1.TrafficDirection.INGRESS;
        int n = 0;
        for (Flow.Builder f : java.util.List.of(
                forward.clone().setEventType(EventType.NEW_CONNECTION).setTrafficDirection(egress),
                forward.clone().setEventType(EventType.NEW_CONNECTION).setTrafficDirection(ingress),
                forward.clone().setEventType(udp ? EventType.DNS : EventType.CONNECTION_CLOSE).setTrafficDirection(egress),
                forward.clone().setEventType(udp ? EventType.DNS : EventType.CONNECTION_CLOSE).setTrafficDirection(ingress),
                reply.clone().setEventType(udp ? EventType.DNS : EventType.NEW_CONNECTION).setTrafficDirection(egress))) {
            long t = atMs + n;
            flows.add(f.setTime(Timestamp.newBuilder().setSeconds(t / 1000).setNanos((int) (t % 1000) * 1_000_000))
                    .setUuid(from + "-" + to + "-" + atMs + "-" + n++).build());
        }
        return flows;
    }

    @AfterAll
    static void stop() {
        if (relay != null) {
            relay.close();
        }
        if (standInDns != null) {
            standInDns.stop(0);
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
        String map = get("/api/v1/servicemap?since=15m", true).body();
        assertThat(map).contains("\"id\":\"shop/frontend\"").contains("\"id\":\"payments/api\"")
                .contains("\"source\":\"shop/frontend\",\"destination\":\"payments/api\",\"verdicts\":{\"DROPPED\":30},"
                        + "\"ports\":[\"TCP/9090\"]")
                .contains("\"destination\":\"shop/cart\",\"verdicts\":{\"FORWARDED\":20},\"ports\":[\"TCP/8080\"]")
                // Judged on both sides, with DNS messages, replies and closes: each connection once.
                .contains("\"source\":\"shop/cart\",\"destination\":\"payments/api\",\"verdicts\":{\"FORWARDED\":6},"
                        + "\"ports\":[\"TCP/9443\"]")
                .contains("\"source\":\"shop/cart\",\"destination\":\"kube-system/coredns\",\"verdicts\":{\"FORWARDED\":4},"
                        + "\"ports\":[\"UDP/53\"]")
                .doesNotContain("\"source\":\"payments/api\",\"destination\":\"shop/cart\"")
                .doesNotContain("198.19.128.10").doesNotContain("AUDIT")
                .contains("\"connections\":60,\"omitted\":0");
        // A closed range: the twelve-minute-old connections only.
        String older = get("/api/v1/servicemap?since=14m&until=11m", true).body();
        assertThat(older).contains("\"connections\":10").doesNotContain("shop/frontend");
        assertThat(get("/api/v1/servicemap?since=1m&until=2m", true).statusCode()).isEqualTo(400);
    }

    @Test
    void pagesWalkBackThroughTheWholeHistoryWithoutRepeatingAFlow() throws Exception {
        java.util.Set<String> uuids = new java.util.HashSet<>();
        String page = null;
        int pages = 0;
        do {
            String body = get("/api/v1/flows?since=10m&verdict=DROPPED&last=8" + (page == null ? "" : "&page=" + page), true)
                    .body();
            var json = tools.jackson.databind.json.JsonMapper.builder().build().readTree(body);
            json.get("flows").forEach(f -> assertThat(uuids.add(f.get("uuid").asString())).isTrue());
            page = json.get("next").isNull() ? null : json.get("next").asString();
            pages++;
        } while (page != null && pages < 10);
        assertThat(uuids).hasSize(30);
        assertThat(pages).isEqualTo(4);
        HttpResponse<String> forged = get("/api/v1/flows?page=bm9wZQ", true);
        assertThat(forged.statusCode()).isEqualTo(400);
        assertThat(forged.body()).contains("\"field\":\"page\"");
        // Values no flow can have are refused, naming the parameter, rather than matching nothing.
        for (String[] bad : new String[][] {{"port=abc", "port"}, {"to_port=70000", "to_port"}, {"protocol=bogus", "protocol"},
            {"label=app%20x", "label"}, {"to_label=app%3D(x)", "to_label"}}) {
            HttpResponse<String> refused = get("/api/v1/flows?" + bad[0], true);
            assertThat(refused.statusCode()).as(bad[0]).isEqualTo(400);
            assertThat(refused.body()).as(bad[0]).contains("\"field\":\"" + bad[1] + "\"");
        }
        // A key alone is a selector (the label exists), as in Hubble's --label.
        assertThat(get("/api/v1/flows?label=app", true).statusCode()).isEqualTo(200);
    }

    static io.grpc.ManagedChannel channel() {
        return io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", relay.getBean(ObserverServer.class).port())
                .usePlaintext().build();
    }

    static dev.weir.proto.observer.v1.ObserverGrpc.ObserverBlockingStub observer(io.grpc.ManagedChannel channel) {
        io.grpc.Metadata auth = new io.grpc.Metadata();
        auth.put(dev.weir.common.auth.BearerTokenInterceptor.AUTHORIZATION, "Bearer " + platform.apiToken());
        return dev.weir.proto.observer.v1.ObserverGrpc.newBlockingStub(channel)
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
    }

    /** The flows of a Hubble GetFlows answer, without its other responses (lost events, node status). */
    static java.util.List<dev.weir.proto.hubble.flow.Flow> flowsOf(
            java.util.Iterator<dev.weir.proto.hubble.observer.GetFlowsResponse> responses) {
        java.util.List<dev.weir.proto.hubble.flow.Flow> flows = new java.util.ArrayList<>();
        responses.forEachRemaining(r -> {
            if (r.hasFlow()) {
                flows.add(r.getFlow());
            }
        });
        return flows;
    }

    @Test
    void theObserverApiServesHistoryNodesAndStatusForTheCluster() throws Exception {
        io.grpc.ManagedChannel channel = channel();
        try {
            var observer = observer(channel);
            var since = Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000 - 600).build();
            var drops = dev.weir.proto.observer.v1.FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
            java.util.List<Flow> last = new java.util.ArrayList<>();
            observer.getFlows(dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setNumber(5).setSince(since)
                    .addWhitelist(drops).build()).forEachRemaining(r -> {
                        if (r.hasFlow()) {
                            last.add(r.getFlow());
                        }
                    });
            assertThat(last).hasSize(5).allMatch(f -> f.getVerdict() == Verdict.DROPPED);
            java.util.List<Flow> first = new java.util.ArrayList<>();
            observer.getFlows(dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setNumber(3).setFirst(true)
                    .setSince(since).addWhitelist(drops).build()).forEachRemaining(r -> {
                        if (r.hasFlow()) {
                            first.add(r.getFlow());
                        }
                    });
            assertThat(first).hasSize(3);
            assertThat(com.google.protobuf.util.Timestamps.compare(first.get(0).getTime(), last.get(0).getTime())).isNegative();

            var nodes = observer.getNodes(dev.weir.proto.observer.v1.GetNodesRequest.getDefaultInstance());
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> observer
                    .getNodes(dev.weir.proto.observer.v1.GetNodesRequest.getDefaultInstance()).getNodesCount() == 2);
            nodes = observer.getNodes(dev.weir.proto.observer.v1.GetNodesRequest.getDefaultInstance());
            assertThat(nodes.getNodesList()).extracting(n -> n.getName() + "=" + n.getState())
                    .containsExactly("node-a=NODE_CONNECTED", "node-b=NODE_UNAVAILABLE");
            var status = observer.serverStatus(dev.weir.proto.observer.v1.ServerStatusRequest.getDefaultInstance());
            assertThat(status.getNumConnectedNodes()).isEqualTo(1);
            assertThat(status.getNumUnavailableNodes()).isEqualTo(1);
            assertThat(status.getSeenFlows()).isEqualTo(150);
            assertThat(status.getLostFlows()).isEqualTo(2);
            assertThat(get("/api/v1/nodes", true).body()).contains("\"name\":\"node-a\"").contains("\"state\":\"UNAVAILABLE\"");

            var anonymous = dev.weir.proto.observer.v1.ObserverGrpc.newBlockingStub(channel);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> anonymous.serverStatus(
                    dev.weir.proto.observer.v1.ServerStatusRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void followingStreamsNewFlowsAsTheyArriveOverGrpcAndRest() throws Exception {
        io.grpc.ManagedChannel channel = channel();
        java.util.concurrent.BlockingQueue<Flow> viaGrpc = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.BlockingQueue<String> viaRest = new java.util.concurrent.LinkedBlockingQueue<>();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        try {
            var toCart = dev.weir.proto.observer.v1.FlowFilter.newBuilder().addDestinationPod("shop/cart").build();
            var request = dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setFollow(true).addWhitelist(toCart).build();
            var stream = call.call(() -> observer(channel).getFlows(request));
            Thread grpcReader = new Thread(() -> {
                try {
                    stream.forEachRemaining(r -> {
                        if (r.hasFlow()) {
                            viaGrpc.add(r.getFlow());
                        }
                    });
                } catch (RuntimeException cancelled) {
                    // the test cancels the call
                }
            });
            grpcReader.start();
            HttpResponse<java.util.stream.Stream<String>> rest = HTTP.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/v1/flows/follow?to_pod=shop/cart")).header("Authorization",
                            "Bearer " + platform.apiToken()).timeout(java.time.Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofLines());
            assertThat(rest.statusCode()).isEqualTo(200);
            Thread restReader = new Thread(() -> rest.body().filter(l -> !l.isBlank()).forEach(viaRest::add));
            restReader.setDaemon(true);
            restReader.start();
            Thread.sleep(1500); // both followers registered at the head of the topic

            String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
            long now = System.currentTimeMillis();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                    KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "it-follow"))) {
                for (int i = 0; i < 10; i++) {
                    Flow flow = flow(now + i, "node-2", Verdict.FORWARDED, i % 2 == 0 ? 8080 : 9090).toBuilder()
                            .setUuid("live-" + i).build();
                    producer.send(new ProducerRecord<>(topic, null, now + i, flow.getNodeName(), flow.toByteArray()));
                }
            }
            java.util.List<String> grpcUuids = new java.util.ArrayList<>();
            java.util.List<String> restLines = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
            while ((grpcUuids.size() < 5 || restLines.size() < 5) && System.nanoTime() < deadline) {
                Flow f = viaGrpc.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (f != null) {
                    grpcUuids.add(f.getUuid());
                }
                viaRest.drainTo(restLines);
            }
            assertThat(grpcUuids).containsExactly("live-0", "live-2", "live-4", "live-6", "live-8");
            assertThat(restLines).hasSize(5).allMatch(l -> l.contains("\"destination\":\"shop/cart-1a2b\""));
            assertThat(restLines.get(0)).contains("\"uuid\":\"live-0\"");
        } finally {
            call.cancel(null);
            channel.shutdownNow();
        }
    }

    static dev.weir.proto.hubble.observer.ObserverGrpc.ObserverBlockingStub hubble(io.grpc.ManagedChannel channel) {
        io.grpc.Metadata auth = new io.grpc.Metadata();
        auth.put(dev.weir.common.auth.BearerTokenInterceptor.AUTHORIZATION, "Bearer " + platform.apiToken());
        return dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(channel)
                .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(auth));
    }

    @Test
    void hubblesObserverApiAnswersAsHubbleRelayWould() throws Exception {
        io.grpc.ManagedChannel channel = channel();
        try {
            var hubble = hubble(channel);
            var since = Timestamp.newBuilder().setSeconds(System.currentTimeMillis() / 1000 - 600).build();
            // What `hubble observe --pod payments/api --verdict DROPPED` sends: the source side or the destination side.
            var request = dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(4).setSince(since)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addSourcePod("payments/api")
                            .addVerdict(dev.weir.proto.hubble.flow.Verdict.DROPPED))
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addDestinationPod("payments/api")
                            .addVerdict(dev.weir.proto.hubble.flow.Verdict.DROPPED))
                    .build();
            java.util.List<dev.weir.proto.hubble.observer.GetFlowsResponse> answers = new java.util.ArrayList<>();
            hubble.getFlows(request).forEachRemaining(r -> {
                if (r.hasFlow()) {
                    answers.add(r);
                }
            });
            assertThat(answers).hasSize(4);
            var drop = answers.get(0).getFlow();
            assertThat(drop.getVerdict()).isEqualTo(dev.weir.proto.hubble.flow.Verdict.DROPPED);
            assertThat(drop.getDropReasonDesc()).isEqualTo(dev.weir.proto.hubble.flow.DropReason.POLICY_DENIED);
            assertThat(drop.getDropReason()).isEqualTo(133);
            assertThat(drop.getEventType().getType()).isEqualTo(1);
            assertThat(drop.getDestination().getNamespace()).isEqualTo("payments");
            assertThat(drop.getDestination().getPodName()).startsWith("api-");
            assertThat(drop.getL4().getTCP().getDestinationPort()).isEqualTo(9090);
            assertThat(drop.getIP().getSource()).isEqualTo("198.18.1.10");
            assertThat(drop.getIngressDeniedByList()).extracting(p -> p.getNamespace() + "/" + p.getName())
                    .containsExactly("payments/api-from-cart");
            assertThat(answers.get(0).getNodeName()).isEqualTo(drop.getNodeName()).startsWith("node-");

            // A bare pod name is in "default", as Hubble reads it: no flow there.
            java.util.List<dev.weir.proto.hubble.observer.GetFlowsResponse> none = new java.util.ArrayList<>();
            hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(5).setSince(since)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addSourcePod("frontend")).build())
                    .forEachRemaining(none::add);
            assertThat(none).isEmpty();
            // Forwarded flows to the cart on 8080, by protocol and port.
            java.util.List<dev.weir.proto.hubble.observer.GetFlowsResponse> cart = new java.util.ArrayList<>();
            hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(3).setSince(since)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addProtocol("TCP")
                            .addDestinationPort("8080").addVerdict(dev.weir.proto.hubble.flow.Verdict.FORWARDED)).build())
                    .forEachRemaining(r -> {
                        if (r.hasFlow()) { // besides the flows: the undecodable record, as a lost event
                            cart.add(r);
                        } else {
                            assertThat(r.getLostEvents().getNumEventsLost()).isPositive();
                        }
                    });
            assertThat(cart).hasSize(3).allMatch(r -> r.getFlow().getDestination().getPodName().startsWith("cart-"));
            // A filter Weir cannot apply is refused, naming it; one on what Weir never records matches nothing.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> hubble.getFlows(
                    dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(1)
                            .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder()
                                    .addTcpFlags(dev.weir.proto.hubble.flow.TCPFlags.newBuilder().setSYN(true))).build())
                    .hasNext())
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).contains("tcp_flags");
                    });
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(1)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addSourceLabel("app in (a b)")).build())
                    .hasNext())
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).startsWith("source_label: ");
                    });
            hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(5).setSince(since)
                    .addWhitelist(dev.weir.proto.hubble.flow.FlowFilter.newBuilder().addHttpStatusCode("200")).build())
                    .forEachRemaining(r -> assertThat(r.hasFlow()).as("no HTTP in Weir's flows").isFalse());

            // A field mask (the latest CLI sends its default one unasked): only those fields; a path
            // naming a field Weir's flow.Flow lacks selects nothing and is not an error.
            var masked = flowsOf(hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(2)
                    .setSince(since).setFieldMask(com.google.protobuf.FieldMask.newBuilder().addPaths("verdict")
                            .addPaths("source.pod_name").addPaths("no_such_field")).build()));
            assertThat(masked).hasSize(2).allSatisfy(f -> {
                assertThat(f.getVerdict()).isNotEqualTo(dev.weir.proto.hubble.flow.Verdict.VERDICT_UNKNOWN);
                assertThat(f.getSource().getPodName()).isNotEmpty();
                assertThat(f.getSource().getNamespace()).isEmpty();
                assertThat(f.hasDestination()).isFalse();
                assertThat(f.hasIP()).isFalse();
                assertThat(f.getUuid()).isEmpty();
            });
            var experimental = flowsOf(hubble.getFlows(dev.weir.proto.hubble.observer.GetFlowsRequest.newBuilder().setNumber(1)
                    .setSince(since).setExperimental(dev.weir.proto.hubble.observer.GetFlowsRequest.Experimental.newBuilder()
                            .setFieldMask(com.google.protobuf.FieldMask.newBuilder().addPaths("node_name"))).build()));
            assertThat(experimental).hasSize(1).allSatisfy(f -> {
                assertThat(f.getNodeName()).isNotEmpty();
                assertThat(f.hasTime()).isFalse();
            });

            var status = hubble.serverStatus(dev.weir.proto.hubble.observer.ServerStatusRequest.getDefaultInstance());
            assertThat(status.getNumConnectedNodes().getValue()).isEqualTo(1);
            assertThat(status.getNumUnavailableNodes().getValue()).isEqualTo(1);
            assertThat(status.getUnavailableNodesList()).containsExactly("node-b");
            assertThat(status.getSeenFlows()).isEqualTo(150);
            assertThat(hubble.getNodes(dev.weir.proto.hubble.observer.GetNodesRequest.getDefaultInstance()).getNodesList())
                    .extracting(n -> n.getName() + "=" + n.getState()).containsExactly("node-a=NODE_CONNECTED",
                            "node-b=NODE_UNAVAILABLE");
            assertThat(hubble.getNamespaces(dev.weir.proto.hubble.observer.GetNamespacesRequest.getDefaultInstance())
                    .getNamespacesList()).extracting(dev.weir.proto.hubble.observer.Namespace::getNamespace)
                    .containsExactly("kube-system", "payments", "shop");
            assertThat(hubble.getAgentEvents(dev.weir.proto.hubble.observer.GetAgentEventsRequest.getDefaultInstance())
                    .hasNext()).isFalse();

            // hubble status: gRPC health for Hubble's service name, no credentials needed.
            var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(channel).check(
                    io.grpc.health.v1.HealthCheckRequest.newBuilder().setService("hubble.server.Observer").build());
            assertThat(health.getStatus()).isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            var anonymous = dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(channel);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> anonymous.serverStatus(
                    dev.weir.proto.hubble.observer.ServerStatusRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void theExportIsHubblesFormatOneResponseALine() throws Exception {
        HttpResponse<String> export = get("/api/v1/flows/export?pod=payments/api&verdict=DROPPED&last=3", true);
        assertThat(export.statusCode()).isEqualTo(200);
        java.util.List<String> lines = export.body().lines().toList();
        assertThat(lines).hasSize(3);
        for (String line : lines) {
            var response = dev.weir.proto.hubble.observer.GetFlowsResponse.newBuilder();
            com.google.protobuf.util.JsonFormat.parser().merge(line, response); // as hubble observe --input-file reads it
            assertThat(response.getFlow().getVerdict()).isEqualTo(dev.weir.proto.hubble.flow.Verdict.DROPPED);
            assertThat(response.getFlow().getDestination().getNamespace()).isEqualTo("payments");
            assertThat(response.getNodeName()).isEqualTo(response.getFlow().getNodeName());
        }
        assertThat(lines.get(0)).contains("\"pod_name\":").contains("\"drop_reason_desc\":\"POLICY_DENIED\"");
    }

    @Test
    void theRelayIsTheUisOneOriginForTheOtherApisAndServesTheUi() throws Exception {
        HttpResponse<String> proxied = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/dns/health?since=5m"))
                .header("Authorization", "Bearer " + platform.apiToken()).header("Cookie", "session=1")
                .header("X-Weir-Author", "someone-else").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(proxied.statusCode()).isEqualTo(200);
        assertThat(proxied.body())
                .isEqualTo("{\"path\":\"/api/v1/dns/health?since=5m\",\"auth\":true,\"cookie\":false,\"author\":false}");
        HttpResponse<String> down = get("/api/v1/alerting/alerts", true);
        assertThat(down.statusCode()).isEqualTo(502);
        assertThat(down.body()).contains("did not answer").doesNotContain("127.0.0.1");
        assertThat(get("/api/v1/dns/health", false).statusCode()).isEqualTo(401);
        HttpResponse<String> ui = get("/ui/", false);
        assertThat(ui.statusCode()).isEqualTo(200);
        assertThat(ui.body()).contains("<title>Weir</title>");
    }
}
