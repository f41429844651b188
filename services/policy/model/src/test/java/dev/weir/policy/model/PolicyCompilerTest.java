package dev.weir.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.policy.model.MapKey.Direction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyCompilerTest {

    static final Cluster CLUSTER = new Cluster()
            .namespace("shop", Map.of("kubernetes.io/metadata.name", "shop"))
            .namespace("db", Map.of("kubernetes.io/metadata.name", "db"))
            .pod(new Cluster.Pod("shop", "web", Map.of("app", "web"), "198.18.1.10",
                    List.of(new Cluster.ContainerPort("http", 8080, Protocol.TCP)), "node-1", 1))
            .pod(new Cluster.Pod("db", "pg", Map.of("app", "pg"), "198.18.2.10",
                    List.of(new Cluster.ContainerPort("sql", 5432, Protocol.TCP)), "node-1", 2))
            .pod(new Cluster.Pod("db", "pg-replica", Map.of("app", "pg"), "198.18.2.11",
                    List.of(new Cluster.ContainerPort("sql", 5433, Protocol.TCP)), "node-2", 1));

    static Compilation compile(String yaml) {
        return PolicyCompiler.compile(CLUSTER, PolicyParser.parse(yaml), new Identity.LocalAllocator());
    }

    @Test
    void podsWithTheSameLabelsShareAnIdentityAndTheIpcacheMapsTheirAddresses() {
        Compilation compiled = compile("[]");
        assertThat(compiled.identityOf("198.18.2.10")).isEqualTo(compiled.identityOf("198.18.2.11"))
                .isNotEqualTo(compiled.identityOf("198.18.1.10")).isGreaterThanOrEqualTo(256);
        assertThat(compiled.identityOf("203.0.113.9")).isEqualTo(Identity.WORLD);
        assertThat(compiled.endpoint("shop/web")).isEqualTo(EndpointPolicy.UNSELECTED);
    }

    @Test
    void anEgressNamedPortResolvesOnEachDestination() {
        Compilation compiled = compile("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: to-db, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  policyTypes: [Egress]
                  egress:
                    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: db}}}]
                      ports: [{port: sql}]
                """);
        int pg = compiled.identityOf("198.18.2.10");
        EndpointPolicy web = compiled.endpoint("shop/web");
        assertThat(web.egressIsolated()).isTrue();
        assertThat(web.ingressIsolated()).isFalse();
        assertThat(web.entries().keySet()).containsExactlyInAnyOrder(
                new MapKey(pg, 5432, 6, Direction.EGRESS), new MapKey(pg, 5433, 6, Direction.EGRESS));
        assertThat(compiled.policyOf(web.entries().values().iterator().next().cookie())).contains("NetworkPolicy/shop/to-db");
    }

    @Test
    void anIpBlockBecomesPrefixIdentitiesAndTheExceptedPrefixIsNotAllowed() {
        Compilation compiled = compile("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: egress-internet, namespace: shop}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                  egress:
                    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.0.0/16]}}]
                """);
        EndpointPolicy web = compiled.endpoint("shop/web");
        int everything = compiled.ipcache().get(Cidr.parse("0.0.0.0/0"));
        int linkLocal = compiled.ipcache().get(Cidr.parse("169.254.0.0/16"));
        assertThat(compiled.identityOf("169.254.169.254")).isEqualTo(linkLocal);
        assertThat(Verdicts.decide(compiled, "shop/web", "198.18.1.10", null, "169.254.169.254", 80, Protocol.TCP).allowed())
                .isFalse();
        assertThat(Verdicts.decide(compiled, "shop/web", "198.18.1.10", null, "203.0.113.9", 443, Protocol.TCP).allowed())
                .isTrue();
        assertThat(web.entries().keySet()).extracting(MapKey::identity).contains(everything, Identity.WORLD)
                .doesNotContain(linkLocal);
    }

    @Test
    void aDenyEntryWinsOverAnAllowOnTheSameKey() {
        Compilation compiled = compile("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: allow, namespace: db}
                spec:
                  podSelector: {}
                  ingress: [{}]
                ---
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: deny-shop, namespace: db}
                spec:
                  podSelector: {}
                  ingressDeny:
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
                """);
        Verdicts.PathDecision decision = Verdicts.decide(compiled, "shop/web", "198.18.1.10", "db/pg", "198.18.2.10",
                5432, Protocol.TCP);
        assertThat(decision.allowed()).isFalse();
        assertThat(decision.ingress().denyEntry()).isTrue();
        assertThat(compiled.policyOf(decision.ingress().entry().cookie())).contains("WeirNetworkPolicy/db/deny-shop");
    }

    @Test
    void toFqdnsAllowsTheAddressesDnsAnsweredForMatchingNames() {
        List<Policy> policies = PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: to-apis, namespace: shop}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  egress:
                    - toFQDNs: [{matchName: api.example.com}, {matchPattern: "*.payments.example"}]
                      ports: [{port: 443}]
                """);
        Map<String, java.util.Set<String>> answers = Map.of(
                "api.example.com.", java.util.Set.of("203.0.113.7"),
                "eu.payments.example.", java.util.Set.of("203.0.113.8"),
                "deep.eu.payments.example.", java.util.Set.of("203.0.113.9"),
                "other.example.com.", java.util.Set.of("203.0.113.10"));
        Compilation compiled = PolicyCompiler.compile(CLUSTER, policies, new Identity.LocalAllocator(), Map.of(), answers);
        assertThat(compiled.endpoint("shop/web").egressIsolated()).isTrue();
        for (String allowed : List.of("203.0.113.7", "203.0.113.8")) {
            assertThat(Verdicts.decide(compiled, "shop/web", "198.18.1.10", null, allowed, 443, Protocol.TCP).allowed())
                    .as(allowed).isTrue();
        }
        for (String denied : List.of("203.0.113.9", "203.0.113.10")) {
            assertThat(Verdicts.decide(compiled, "shop/web", "198.18.1.10", null, denied, 443, Protocol.TCP).allowed())
                    .as(denied).isFalse();
        }
        assertThat(Verdicts.decide(compiled, "shop/web", "198.18.1.10", null, "203.0.113.7", 80, Protocol.TCP).allowed())
                .isFalse();
        // Without answers yet, nothing is allowed and nothing breaks.
        Compilation before = PolicyCompiler.compile(CLUSTER, policies, new Identity.LocalAllocator());
        assertThat(Verdicts.decide(before, "shop/web", "198.18.1.10", null, "203.0.113.7", 443, Protocol.TCP).allowed())
                .isFalse();
    }
}
