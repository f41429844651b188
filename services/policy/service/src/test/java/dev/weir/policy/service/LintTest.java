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

    private static Cluster withResolver() {
        return cluster().pod(new Cluster.Pod("kube-system", "coredns", Map.of("k8s-app", "kube-dns"), "198.18.0.53", List.of(),
                "", 0));
    }

    /** Allows the cart on 8080 and the outside world on every port: nothing of that is the cluster's DNS. */
    private static final String WEB_TO_CART_AND_WORLD = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-out, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: web}}
              policyTypes: [Egress]
              egress:
                - to: [{podSelector: {matchLabels: {app: cart}}}]
                  ports: [{port: 8080}]
                - to: [{ipBlock: {cidr: 203.0.113.0/24}}]
            """;

    private static List<String> dnsWarnings(List<dev.weir.api.policy.LintWarning> warnings) {
        return warnings.stream().filter(w -> w.message().contains("DNS") || w.message().contains("resolver"))
                .map(w -> w.field() + ": " + w.message()).toList();
    }

    @Test
    void anEgressPolicyWhosePortlessAddressBlockIsNotTheResolverCutsThePodOffDns() {
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(WEB_TO_CART_AND_WORLD), withResolver())))
                .singleElement().asString().startsWith("spec.egress: cuts pod shop/web off the cluster DNS (kube-system/coredns");
        // Without a resolver pod to judge against, the rules are read: a port-less block is still the outside world.
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(WEB_TO_CART_AND_WORLD), cluster())))
                .singleElement().asString().startsWith("spec.egress: isolates egress without allowing DNS");
    }

    @Test
    void dnsAllowedToTheResolverOrByAnotherPolicyInForceIsNoWarning() {
        String withDns = WEB_TO_CART_AND_WORLD + """
                    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
                            podSelector: {matchLabels: {k8s-app: kube-dns}}}]
                      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
                """;
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(withDns), withResolver()))).isEmpty();
        List<dev.weir.policy.model.Policy> dnsForAll = PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: dns-for-all}
                spec:
                  podSelector: {}
                  egress:
                    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
                      ports: [{port: 53, protocol: UDP}]
                """);
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(WEB_TO_CART_AND_WORLD), dnsForAll, withResolver(), Map.of())))
                .isEmpty();
        // The same allow on TCP only lets no UDP lookup through.
        String tcpOnly = WEB_TO_CART_AND_WORLD + """
                    - to: [{namespaceSelector: {}}]
                      ports: [{port: 53, protocol: TCP}]
                """;
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(tcpOnly), withResolver()))).hasSize(1);
    }

    @Test
    void aDenyOfDnsBesideAnAllowOfEverythingCutsThePodOff() {
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: no-dns, namespace: shop}
                spec:
                  podSelector: {}
                  egress:
                    - {}
                  egressDeny:
                    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]
                      ports: [{port: 53, protocol: UDP}]
                """), withResolver()))).singleElement().asString().contains("cuts pod shop/web off");
    }

    @Test
    void closingTheResolversIngressNamesTheClientsItCutsOff() {
        List<String> warnings = dnsWarnings(Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: coredns, namespace: kube-system}
                spec:
                  podSelector: {matchLabels: {k8s-app: kube-dns}}
                  ingress: []
                """), withResolver()));
        assertThat(warnings).singleElement().asString().startsWith("spec.ingress: closes the cluster resolver "
                + "kube-system/coredns to 3 pods (shop/web, ops/backup, db/pg)");
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: coredns, namespace: kube-system}
                spec:
                  podSelector: {matchLabels: {k8s-app: kube-dns}}
                  ingress:
                    - from: [{namespaceSelector: {}}]
                      ports: [{port: 53, protocol: UDP}]
                """), withResolver()))).isEmpty();
    }

    @Test
    void eachPolicyIsToldOfItsOwnEndOfALookupOnly() {
        List<dev.weir.policy.model.Policy> closedResolver = PolicyParser.parse("""
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: coredns, namespace: kube-system}
                spec:
                  podSelector: {matchLabels: {k8s-app: kube-dns}}
                  ingress: []
                """);
        String webWithDns = WEB_TO_CART_AND_WORLD + """
                    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
                            podSelector: {matchLabels: {k8s-app: kube-dns}}}]
                      ports: [{port: 53, protocol: UDP}]
                """;
        // The web's egress allows DNS: that the resolver's own policy closes it is that policy's warning, not this one's.
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(webWithDns), closedResolver, withResolver(), Map.of()))).isEmpty();
        // A pod labelled as the resolver outside kube-system is not the cluster's resolver.
        Cluster impostor = cluster().pod(new Cluster.Pod("ops", "fake-dns", Map.of("k8s-app", "kube-dns"), "198.18.3.53",
                List.of(), "", 0));
        assertThat(dnsWarnings(Lint.lint(PolicyParser.parse(WEB_TO_CART_AND_WORLD.replace("203.0.113.0/24", "198.18.3.53/32")),
                impostor))).singleElement().asString().startsWith("spec.egress: isolates egress without allowing DNS");
    }
}
