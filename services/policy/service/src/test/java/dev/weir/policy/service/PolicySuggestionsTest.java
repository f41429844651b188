package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.api.policy.SuggestResult;
import dev.weir.api.policy.SuggestedPolicy;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import dev.weir.policy.service.suggest.ObservedTraffic;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** Suggestions from flows shaped as the agent writes them, judged by the compiler's own verdict model. */
class PolicySuggestionsTest {

    private static final Instant START = Instant.parse("2026-12-02T02:00:00Z");
    private static final String NODE_IP = "198.18.250.1";
    private static final String OUTSIDE_IP = "198.19.200.7";

    record Pod(String namespace, String name, String ip, Map<String, String> labels, List<Cluster.ContainerPort> ports) {
        Endpoint endpoint() {
            Endpoint.Builder e = Endpoint.newBuilder().setNamespace(namespace).setPodName(name + "-7c9f8-x2x4q")
                    .addWorkloads(Workload.newBuilder().setName(name).setKind("Deployment"));
            labels.forEach((k, v) -> e.addLabels(k + "=" + v));
            e.addLabels("pod-template-hash=7c9f8"); // must never become a selector
            return e.build();
        }

        Cluster.Pod clusterPod() {
            Map<String, String> all = new java.util.HashMap<>(labels);
            all.put("pod-template-hash", "7c9f8");
            return new Cluster.Pod(namespace, name + "-7c9f8-x2x4q", all, ip, ports, "node-1", 1);
        }
    }

    private static final Pod DNS = new Pod("kube-system", "coredns", "198.18.0.53", Map.of("k8s-app", "kube-dns"), List.of());
    private static final Pod FRONTEND = new Pod("shop", "frontend", "198.18.1.10", Map.of("app", "frontend"), List.of());
    private static final Pod CART = new Pod("shop", "cart", "198.18.1.11", Map.of("app", "cart"),
            List.of(new Cluster.ContainerPort("http", 8080, Protocol.TCP)));
    private static final Pod API = new Pod("payments", "api", "198.18.2.10", Map.of("app", "payments-api"),
            List.of(new Cluster.ContainerPort("grpc", 9090, Protocol.TCP)));

    private static final String API_FROM_CART = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: api-from-cart, namespace: payments}
            spec:
              podSelector: {matchLabels: {app: payments-api}}
              ingress:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}},
                          podSelector: {matchLabels: {app: cart}}}]
                  ports: [{port: grpc}]
            """;

    private final List<Flow> flows = new ArrayList<>();
    private int second;

    private static Cluster cluster() {
        Cluster cluster = new Cluster().node("node-1", List.of(NODE_IP));
        for (Pod pod : List.of(DNS, FRONTEND, CART, API)) {
            cluster.pod(pod.clusterPod());
        }
        return cluster;
    }

    /**
     * A connection as the agent reports it: at the sender's egress and at the receiver's ingress;
     * one the receiver's policy refuses leaves the sender as any other and is dropped on arrival.
     */
    private void connect(Pod from, Pod to, int port, boolean udp, Verdict verdict) {
        flows.add(flow(from.endpoint(), from.ip(), to.endpoint(), to.ip(), port, udp, Verdict.FORWARDED,
                TracePoint.FROM_ENDPOINT, List.of()));
        flows.add(flow(from.endpoint(), from.ip(), to.endpoint(), to.ip(), port, udp, verdict, TracePoint.TO_ENDPOINT,
                List.of()));
    }

    private Flow flow(Endpoint source, String sourceIp, Endpoint destination, String destinationIp, int port, boolean udp,
            Verdict verdict, TracePoint point, List<String> destinationNames) {
        Layer4 l4 = udp ? Layer4.newBuilder().setUdp(dev.weir.proto.flow.v1.UDP.newBuilder().setSourcePort(40000)
                .setDestinationPort(port)).build()
                : Layer4.newBuilder().setTcp(dev.weir.proto.flow.v1.TCP.newBuilder().setSourcePort(40000)
                        .setDestinationPort(port)).build();
        Instant at = START.plusSeconds(second++);
        return Flow.newBuilder().setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(at.getEpochSecond()))
                .setVerdict(verdict).setEventType(verdict == Verdict.DROPPED ? EventType.DROP : EventType.NEW_CONNECTION)
                .setTracePoint(point).setIp(dev.weir.proto.flow.v1.IP.newBuilder().setSource(sourceIp)
                        .setDestination(destinationIp))
                .setL4(l4).setSource(source).setDestination(destination).addAllDestinationNames(destinationNames).build();
    }

    private void demoTraffic() {
        for (int i = 0; i < 5; i++) {
            connect(FRONTEND, DNS, 53, true, Verdict.FORWARDED);
            connect(FRONTEND, CART, 8080, false, Verdict.FORWARDED);
            connect(CART, DNS, 53, true, Verdict.FORWARDED);
            connect(CART, API, 9090, false, Verdict.FORWARDED);
            connect(FRONTEND, API, 9090, false, Verdict.DROPPED); // refused today: not to be suggested
        }
        // The kubelet's probe of the cart, from the node: an entity, not an address block.
        flows.add(flow(Endpoint.newBuilder().setIdentity(Identity.HOST).build(), NODE_IP, CART.endpoint(), CART.ip(),
                8080, false, Verdict.FORWARDED, TracePoint.TO_ENDPOINT, List.of()));
        // The API calls out to a name it resolved: a toFQDNs rule.
        flows.add(flow(API.endpoint(), API.ip(), Endpoint.newBuilder().setIdentity(Identity.WORLD).build(), OUTSIDE_IP, 443,
                false, Verdict.FORWARDED, TracePoint.FROM_ENDPOINT, List.of("pay.example.test.")));
    }

    private SuggestResult suggest(List<Policy> inForce) {
        Cluster cluster = cluster();
        ObservedTraffic traffic = new ObservedTraffic();
        ImpactPreview.Connections connections = new ImpactPreview.Connections(cluster);
        flows.forEach(f -> {
            traffic.accept(f);
            connections.accept(f);
        });
        RecordedFlows.Read read = new RecordedFlows.Read(START, START.plusSeconds(600), flows.size(), 0, false);
        return PolicySuggestions.suggest(read, traffic, connections, cluster, null, inForce, compiler());
    }

    /** The service's compile: one allocator, and the DNS answers the agents observed. */
    private static BiFunction<Cluster, List<Policy>, Compilation> compiler() {
        Identity.Allocator allocator = new Identity.LocalAllocator();
        Map<String, Set<String>> answers = Map.of("pay.example.test", Set.of(OUTSIDE_IP));
        return (c, p) -> PolicyCompiler.compile(c, p, allocator, Map.of(), answers);
    }

    private static List<Policy> combined(List<Policy> inForce, String document) {
        List<Policy> all = new ArrayList<>(inForce);
        all.addAll(PolicyParser.parse(document));
        return all;
    }

    private static SuggestedPolicy policy(SuggestResult result, String name) {
        return result.policies().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void everyWorkloadGetsAPolicyThatAllowsWhatItDidAndPreviewsNoNewDrop() {
        demoTraffic();
        List<Policy> inForce = PolicyParser.parse(API_FROM_CART);
        SuggestResult result = suggest(inForce);
        assertThat(result.policies()).extracting(SuggestedPolicy::name)
                .containsExactly("suggested-coredns", "suggested-api", "suggested-cart", "suggested-frontend");
        assertThat(result.preview().changes()).isEmpty();
        assertThat(result.preview().connectionsJudged()).isEqualTo(7);
        assertThat(result.document()).doesNotContain("pod-template-hash");

        SuggestedPolicy cart = policy(result, "suggested-cart");
        assertThat(cart.kind()).isEqualTo(Policy.WEIR_POLICY); // the node's probe is an entity
        assertThat(cart.yaml()).contains("podSelector:\n    matchLabels:\n      \"app\": \"cart\"")
                .contains("# shop/frontend (Deployment): http/TCP, 5 flows, first 2026-12-02T02:00:02Z")
                .contains("fromEntities: [\"host\"]")
                .contains("port: \"http\"").contains("port: \"grpc\"")
                .contains("\"kubernetes.io/metadata.name\": \"payments\"");
        assertThat(cart.rules()).extracting(r -> r.field() + " " + r.peer() + " " + r.ports() + " " + r.flows()).containsExactly(
                "spec.ingress[0] host " + NODE_IP + " [http/TCP] 1",
                "spec.ingress[1] shop/frontend (Deployment) [http/TCP] 5",
                "spec.egress[0] the cluster resolver [53/TCP, 53/UDP] 5",
                "spec.egress[1] payments/api (Deployment) [grpc/TCP] 5");

        SuggestedPolicy api = policy(result, "suggested-api");
        assertThat(api.yaml()).contains("toFQDNs:\n        - matchName: \"pay.example.test\"")
                .contains("# the cluster resolver: the toFQDNs rules below learn their addresses from its answers");
        SuggestedPolicy coredns = policy(result, "suggested-coredns");
        assertThat(coredns.yaml()).contains("- namespaceSelector: {}").contains("# No egress was seen: none is allowed.")
                .contains("# every pod and node of the cluster: 53/UDP, 10 flows")
                .contains("fromEntities: [\"host\", \"remote-node\"]"); // host-network pods resolve too

        // What was refused stays refused: the frontend still may not call the payments API.
        Cluster cluster = cluster();
        List<Policy> combined = new ArrayList<>(inForce);
        combined.addAll(PolicyParser.parse(result.document()));
        Compilation suggested = compiler().apply(cluster, combined);
        assertThat(Verdicts.decide(suggested, "shop/frontend-7c9f8-x2x4q", FRONTEND.ip(), "payments/api-7c9f8-x2x4q", API.ip(),
                9090, Protocol.TCP).allowed()).isFalse();
        assertThat(Verdicts.decide(suggested, "shop/cart-7c9f8-x2x4q", CART.ip(), "payments/api-7c9f8-x2x4q", API.ip(),
                9090, Protocol.TCP).allowed()).isTrue();
        // Least privilege: the cart may not reach the frontend, nor the frontend the API on another port.
        assertThat(Verdicts.decide(suggested, "shop/cart-7c9f8-x2x4q", CART.ip(), "shop/frontend-7c9f8-x2x4q", FRONTEND.ip(),
                8080, Protocol.TCP).allowed()).isFalse();
    }

    @Test
    void aSuggestionMissingARuleShowsInThePreviewAsTheDropsItWouldCause() {
        demoTraffic();
        List<Policy> inForce = PolicyParser.parse(API_FROM_CART);
        SuggestResult result = suggest(inForce);
        String withoutFrontendRule = result.document().replace("""
                    - from:
                        - podSelector:
                            matchLabels:
                              "app": "frontend"
                      ports:
                        - {protocol: TCP, port: "http"}
                """, "");
        assertThat(withoutFrontendRule).isNotEqualTo(result.document());
        Cluster cluster = cluster();
        ImpactPreview.Connections connections = new ImpactPreview.Connections(cluster);
        flows.forEach(connections::accept);
        BiFunction<Cluster, List<Policy>, Compilation> compile = compiler();
        var preview = ImpactPreview.judge(new RecordedFlows.Read(START, START.plusSeconds(600), flows.size(), 0, false),
                connections, compile.apply(cluster, inForce), compile.apply(cluster, combined(inForce, withoutFrontendRule)));
        assertThat(preview.changes()).singleElement().satisfies(c -> {
            assertThat(c.source()).isEqualTo("shop/frontend-7c9f8-x2x4q");
            assertThat(c.destination()).isEqualTo("shop/cart-7c9f8-x2x4q");
            assertThat(c.after()).isEqualTo("DROPPED");
            assertThat(c.flows()).isEqualTo(5);
        });
    }

    @Test
    void manyOutsideAddressesBecomeOneRuleAndHostileLabelsStayQuoted() {
        // A label no Kubernetes API server would accept is never selected by (nor written).
        Pod odd = new Pod("shop", "odd", "198.18.1.12", Map.of("app", "odd", "tier", "x\"\n  evil: true"), List.of());
        for (int i = 0; i < 20; i++) {
            flows.add(flow(Endpoint.newBuilder().setIdentity(Identity.WORLD).build(), "198.19.10." + i, odd.endpoint(),
                    odd.ip(), 443, false, Verdict.FORWARDED, TracePoint.TO_ENDPOINT, List.of()));
        }
        Cluster cluster = cluster().pod(odd.clusterPod());
        ObservedTraffic traffic = new ObservedTraffic();
        ImpactPreview.Connections connections = new ImpactPreview.Connections(cluster);
        flows.forEach(f -> {
            traffic.accept(f);
            connections.accept(f);
        });
        SuggestResult result = PolicySuggestions.suggest(new RecordedFlows.Read(START, START.plusSeconds(60), flows.size(), 0,
                false), traffic, connections, cluster, "shop", List.of(), compiler());
        SuggestedPolicy policy = result.policies().get(0);
        assertThat(policy.rules()).singleElement().satisfies(r -> {
            assertThat(r.peer()).isEqualTo("20 addresses outside the cluster");
            assertThat(r.flows()).isEqualTo(20);
        });
        assertThat(policy.yaml()).contains("ipBlock: {cidr: \"0.0.0.0/0\"}").contains("\"app\": \"odd\"").doesNotContain("evil");
        List<Policy> parsed = PolicyParser.parse(result.document());
        assertThat(parsed).singleElement().satisfies(p -> assertThat(p.podSelector().matches(odd.clusterPod().labels())).isTrue());
        assertThat(result.preview().changes()).isEmpty();
    }

    private SuggestResult suggestOn(Cluster cluster, String namespace) {
        ObservedTraffic traffic = new ObservedTraffic();
        ImpactPreview.Connections connections = new ImpactPreview.Connections(cluster);
        flows.forEach(f -> {
            traffic.accept(f);
            connections.accept(f);
        });
        return PolicySuggestions.suggest(new RecordedFlows.Read(START, START.plusSeconds(600), flows.size(), 0, false),
                traffic, connections, cluster, namespace, List.of(), compiler());
    }

    @Test
    void aNodesAddressIsTheHostToItsOwnPodsAndARemoteNodeToTheOthers() {
        // The same address, as the pods' own agents saw it: the cart's node (host), the API's node (remote-node).
        flows.add(flow(Endpoint.newBuilder().setIdentity(Identity.HOST).build(), NODE_IP, CART.endpoint(), CART.ip(), 8080,
                false, Verdict.FORWARDED, TracePoint.TO_ENDPOINT, List.of()));
        flows.add(flow(Endpoint.newBuilder().setIdentity(Identity.REMOTE_NODE).build(), NODE_IP, API.endpoint(), API.ip(),
                9090, false, Verdict.FORWARDED, TracePoint.TO_ENDPOINT, List.of()));
        SuggestResult result = suggestOn(cluster(), null);
        assertThat(policy(result, "suggested-cart").yaml()).contains("fromEntities: [\"host\"]").doesNotContain("remote-node");
        assertThat(policy(result, "suggested-api").yaml()).contains("fromEntities: [\"remote-node\"]");
    }

    @Test
    void aNameIsAllowedToTheWorkloadsThatResolvedItOnlyAndANameNoPolicyCanHoldIsAnAddress() {
        // One address behind two names (a CDN): each workload gets the name it asked for.
        flows.add(flow(CART.endpoint(), CART.ip(), Endpoint.newBuilder().setIdentity(Identity.WORLD).build(), OUTSIDE_IP, 443,
                false, Verdict.FORWARDED, TracePoint.FROM_ENDPOINT, List.of("www.shop.test.")));
        flows.add(flow(API.endpoint(), API.ip(), Endpoint.newBuilder().setIdentity(Identity.WORLD).build(), OUTSIDE_IP, 443,
                false, Verdict.FORWARDED, TracePoint.FROM_ENDPOINT, List.of("a1.cdn.test.")));
        // A name as the agent escapes a label with a space: no toFQDNs can hold it.
        flows.add(flow(FRONTEND.endpoint(), FRONTEND.ip(), Endpoint.newBuilder().setIdentity(Identity.WORLD).build(),
                "198.19.200.8", 443, false, Verdict.FORWARDED, TracePoint.FROM_ENDPOINT, List.of("a\\032b.test.")));
        SuggestResult result = suggestOn(cluster(), "shop");
        assertThat(result.policies()).extracting(SuggestedPolicy::name).containsExactly("suggested-cart", "suggested-frontend");
        assertThat(policy(result, "suggested-cart").yaml()).contains("matchName: \"www.shop.test\"").doesNotContain("cdn");
        assertThat(policy(result, "suggested-frontend").yaml()).contains("ipBlock: {cidr: \"198.19.200.8/32\"}")
                .doesNotContain("toFQDNs");
        assertThat(result.notes()).isEmpty();
    }

    @Test
    void auditedTrafficWorksAndAScanOfManyPortsIsEveryPortOfItsProtocol() {
        flows.add(flow(FRONTEND.endpoint(), FRONTEND.ip(), CART.endpoint(), CART.ip(), 8080, false, Verdict.AUDIT,
                TracePoint.FROM_ENDPOINT, List.of()));
        for (int port = 10_000; port < 10_040; port++) {
            flows.add(flow(CART.endpoint(), CART.ip(), API.endpoint(), API.ip(), port, false, Verdict.FORWARDED,
                    TracePoint.FROM_ENDPOINT, List.of()));
        }
        SuggestResult result = suggestOn(cluster(), "shop");
        assertThat(policy(result, "suggested-frontend").yaml()).contains("port: \"http\"");
        assertThat(policy(result, "suggested-cart").yaml()).contains("- {protocol: TCP}\n")
                .contains("payments/api (Deployment): any/TCP, 40 flows");
        assertThat(result.preview().changes()).isEmpty();
    }
}
