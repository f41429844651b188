package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.api.policy.ExplainPolicy;
import dev.weir.api.policy.ExplainRequest;
import dev.weir.api.policy.ExplainResponse;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.model.Protocol;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExplanationTest {

    private static final String POLICIES = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: api-from-cart, namespace: payments}
            spec:
              podSelector: {matchLabels: {app: payments-api}}
              ingress:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]
                  ports: [{port: 22}]
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}},
                          podSelector: {matchLabels: {app: cart}}}]
                  ports: [{port: grpc}]
            ---
            apiVersion: weir.dev/v1
            kind: WeirNetworkPolicy
            metadata: {name: no-debug, namespace: payments}
            spec:
              podSelector: {}
              ingressDeny:
                - from: [{namespaceSelector: {}}]
                  ports: [{port: 6060}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: unrelated, namespace: payments}
            spec:
              podSelector: {matchLabels: {app: other}}
              ingress: []
            """;

    private static Cluster cluster() {
        return new Cluster()
                .pod(new Cluster.Pod("shop", "frontend", Map.of("app", "frontend"), "198.18.1.10", List.of(), "", 0))
                .pod(new Cluster.Pod("shop", "cart", Map.of("app", "cart"), "198.18.1.11", List.of(), "", 0))
                .pod(new Cluster.Pod("payments", "api", Map.of("app", "payments-api"), "198.18.2.10",
                        List.of(new Cluster.ContainerPort("grpc", 9090, Protocol.TCP),
                                new Cluster.ContainerPort("debug", 6060, Protocol.TCP)), "", 0));
    }

    private static ExplainResponse explain(String from, String to, String port) {
        Cluster cluster = cluster();
        List<Policy> policies = PolicyParser.parse(POLICIES);
        var enforced = PolicyCompiler.compile(cluster, policies, new Identity.LocalAllocator());
        return new Explanation(cluster, policies, enforced, Map.of()).explain(new ExplainRequest(from, to, port, "TCP"));
    }

    @Test
    void aDropAtAnIsolatedPodNamesEveryPolicyThatSelectsItAndThatNoRuleMatches() {
        ExplainResponse answer = explain("shop/frontend", "payments/api", "grpc");
        assertThat(answer.verdict()).isEqualTo("DROPPED");
        assertThat(answer.port()).isEqualTo(9090);
        assertThat(answer.ingress().isolated()).isTrue();
        assertThat(answer.ingress().policy()).isEmpty(); // no entry decided: isolation did
        assertThat(answer.ingress().match()).isEqualTo("NONE");
        assertThat(answer.ingress().policies()).containsExactly(
                new ExplainPolicy("NetworkPolicy/payments/api-from-cart", 2, List.of()),
                new ExplainPolicy("WeirNetworkPolicy/payments/no-debug", 1, List.of()));
        assertThat(answer.egress().isolated()).isFalse();
        assertThat(answer.egress().policies()).isEmpty();
    }

    @Test
    void anAllowNamesTheRuleThatMatchesByItsNamedPort() {
        ExplainResponse answer = explain("shop/cart", "payments/api", "grpc");
        assertThat(answer.verdict()).isEqualTo("FORWARDED");
        assertThat(answer.ingress().policy()).isEqualTo("NetworkPolicy/payments/api-from-cart");
        assertThat(answer.ingress().policies()).contains(
                new ExplainPolicy("NetworkPolicy/payments/api-from-cart", 2, List.of("spec.ingress[1]")));
        assertThat(explain("shop/cart", "payments/api", "9090")).isEqualTo(answer);
    }

    @Test
    void aDenyThatWinsIsNamedBesideNothingElse() {
        ExplainResponse answer = explain("shop/cart", "198.18.2.10", "debug");
        assertThat(answer.verdict()).isEqualTo("DROPPED");
        assertThat(answer.ingress().deny()).isTrue();
        assertThat(answer.ingress().policy()).isEqualTo("WeirNetworkPolicy/payments/no-debug");
        assertThat(answer.ingress().policies()).containsExactly(
                new ExplainPolicy("NetworkPolicy/payments/api-from-cart", 2, List.of()),
                new ExplainPolicy("WeirNetworkPolicy/payments/no-debug", 1, List.of("spec.ingressDeny[0]")));
    }

    @Test
    void aPortNameTheDestinationDoesNotDeclareOrAnAddressCannotDeclareIsRefusedNamingThePort() {
        assertThatThrownBy(() -> explain("shop/cart", "payments/api", "http"))
                .isInstanceOfSatisfying(PolicyParser.InvalidPolicy.class, e -> {
                    assertThat(e.field()).isEqualTo("port");
                    assertThat(e.getMessage()).contains("payments/api declares no TCP port named 'http'");
                });
        assertThatThrownBy(() -> explain("shop/cart", "198.18.9.9", "grpc"))
                .isInstanceOfSatisfying(PolicyParser.InvalidPolicy.class, e -> assertThat(e.field()).isEqualTo("port"));
        assertThatThrownBy(() -> explain("shop/cart", "payments/api", "70000"))
                .isInstanceOfSatisfying(PolicyParser.InvalidPolicy.class, e -> assertThat(e.field()).isEqualTo("port"));
        assertThatThrownBy(() -> explain("shop/cart", "payments/api", "x".repeat(10_000)))
                .isInstanceOfSatisfying(PolicyParser.InvalidPolicy.class, e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    }
}
