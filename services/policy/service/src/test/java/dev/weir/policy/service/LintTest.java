package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.PolicyParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LintTest {

    private static final String DENY_SHOP = """
            apiVersion: weir.dev/v1
            kind: WeirNetworkPolicy
            metadata: {name: deny-shop, namespace: db}
            spec:
              podSelector: {}
              ingressDeny:
                - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
            """;

    private static Cluster cluster() {
        return new Cluster()
                .pod(new Cluster.Pod("shop", "web", Map.of("app", "web"), "198.18.1.10", List.of(), "", 0))
                .pod(new Cluster.Pod("ops", "backup", Map.of("app", "backup"), "198.18.3.10", List.of(), "", 0))
                .pod(new Cluster.Pod("db", "pg", Map.of("app", "pg"), "198.18.2.10", List.of(), "", 0));
    }

    @Test
    void anAllowEverythingOfWhichADenyInForceDecidesIsShadowedAndNamesTheDeny() {
        List<dev.weir.api.policy.LintWarning> warnings = Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: web-to-pg, namespace: db}
                spec:
                  podSelector: {matchLabels: {app: pg}}
                  ingress:
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
                      ports: [{port: 5432}]
                """), PolicyParser.parse(DENY_SHOP), cluster(), Map.of());
        assertThat(warnings).singleElement().satisfies(w -> {
            assertThat(w.policy()).isEqualTo("NetworkPolicy/db/web-to-pg");
            assertThat(w.field()).isEqualTo("spec.ingress[1]");
            assertThat(w.message()).contains("shadowed").contains("WeirNetworkPolicy/db/deny-shop");
        });
    }

    @Test
    void aPolicyWhoseEntriesWouldNotFitAnAgentsMapIsAWarningBeforeTheApply() {
        // 17,000 single ports from anyone: more than a policy map holds; a range of them would fit.
        StringBuilder ports = new StringBuilder();
        for (int port = 1000; port < 18000; port++) {
            ports.append(ports.length() == 0 ? "" : ", ").append("{port: ").append(port).append("}");
        }
        List<dev.weir.api.policy.LintWarning> warnings = Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: many-ports, namespace: db}
                spec:
                  podSelector: {matchLabels: {app: pg}}
                  ingress:
                    - ports: [%s]
                """.formatted(ports)), cluster());
        assertThat(warnings).singleElement().satisfies(w -> {
            assertThat(w.policy()).isEqualTo("NetworkPolicy/db/many-ports");
            assertThat(w.message()).contains("db/pg would need 17000 policy map entries").contains("refuse");
        });
        assertThat(Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: a-range, namespace: db}
                spec:
                  podSelector: {matchLabels: {app: pg}}
                  ingress:
                    - ports: [{port: 1000, endPort: 17999}]
                """), cluster())).isEmpty();
    }

    @Test
    void anAllowThatADenyOnlyPartlyCoversIsNotShadowed() {
        List<dev.weir.api.policy.LintWarning> warnings = Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: all-to-pg, namespace: db}
                spec:
                  podSelector: {matchLabels: {app: pg}}
                  ingress:
                    - from: [{namespaceSelector: {}}]
                """), PolicyParser.parse(DENY_SHOP), cluster(), Map.of());
        assertThat(warnings).isEmpty();
    }

    @Test
    void aDenyOfOnePortBesideAnAllowOfEveryPortShadowsNothing() {
        List<dev.weir.api.policy.LintWarning> warnings = Lint.lint(PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: pg, namespace: db}
                spec:
                  podSelector: {}
                  ingress:
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
                  ingressDeny:
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]
                      ports: [{port: 5432}]
                """), List.of(), cluster(), Map.of());
        assertThat(warnings).isEmpty(); // the deny covers port 5432 only; the allow still allows every other port
    }

    @Test
    void egressDefaultDenyWithoutDnsIsStillReported() {
        List<dev.weir.api.policy.LintWarning> warnings = Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: lockdown, namespace: shop}
                spec:
                  podSelector: {}
                  policyTypes: [Egress]
                """), cluster());
        assertThat(warnings).extracting(dev.weir.api.policy.LintWarning::field).containsExactly("spec.egress");
    }
}
