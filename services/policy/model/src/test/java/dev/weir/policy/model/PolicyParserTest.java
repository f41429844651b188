package dev.weir.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyParserTest {

    static String policy(String spec) {
        return """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata:
                  name: p
                  namespace: shop
                spec:
                """ + spec.indent(2);
    }

    @Test
    void readsAKubernetesNetworkPolicyWithItsDefaults() {
        List<Policy> policies = PolicyParser.parse(policy("""
                podSelector:
                  matchLabels: {app: cart}
                egress:
                  - to:
                      - namespaceSelector: {matchLabels: {team: payments}}
                        podSelector: {}
                    ports:
                      - port: 8080
                      - protocol: UDP
                        port: dns
                """));
        assertThat(policies).singleElement().satisfies(p -> {
            assertThat(p.namespace()).isEqualTo("shop");
            assertThat(p.isolatesIngress()).isTrue();
            assertThat(p.isolatesEgress()).isTrue();
            assertThat(p.egress().get(0).ports()).containsExactly(
                    new Policy.Port(Protocol.TCP, 8080, null, null), new Policy.Port(Protocol.UDP, null, null, "dns"));
        });
    }

    @Test
    void hostileYamlAndJsonAreRefusedNamingWhere() {
        String aliased = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                + "metadata: {name: p, namespace: &n shop}\nspec: {podSelector: {matchLabels: {app: *n}}}\n";
        assertThatThrownBy(() -> PolicyParser.parse(aliased)).isInstanceOf(PolicyParser.InvalidPolicy.class)
                .hasMessageContaining("line 3").hasMessageContaining("aliases");
        assertThatThrownBy(() -> PolicyParser.parse(policy("podSelector: {}\npodSelector: {}")))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageContaining("duplicate key");
        assertThatThrownBy(() -> PolicyParser.parse("{\"kind\": \"NetworkPolicy\", \"kind\": \"List\"}"))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageContaining("Duplicate Object property");
        assertThatThrownBy(() -> PolicyParser.parse(policy("podSelector: {}\npolicyTypes: Ingress")))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageStartingWith("spec.policyTypes");
        assertThatThrownBy(() -> PolicyParser.parse("kind: []\napiVersion: networking.k8s.io/v1\n"))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageStartingWith("kind");
        assertThatThrownBy(() -> PolicyParser.parse("kind: List\nitems: x\n"))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageStartingWith("items");
        assertThatThrownBy(() -> PolicyParser.parse(policy("podSelector: {}\ningress: [{ports: [{port: .nan}]}]")))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessageContaining("finite");
    }

    @Test
    void readsSeveralDocuments() {
        String two = policy("podSelector: {}") + "---\n" + policy("podSelector: {}").replace("name: p", "name: q");
        assertThat(PolicyParser.parse(two)).extracting(Policy::name).containsExactly("p", "q");
    }

    @Test
    void everyProblemNamesItsField() {
        assertThatThrownBy(() -> PolicyParser.parse(policy("podSelector: {}\ningres: []")))
                .isInstanceOf(PolicyParser.InvalidPolicy.class).hasMessage("spec.ingres: unknown field");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector: {}
                ingress:
                  - from:
                      - ipBlock: {cidr: 10.0.0.0/33}
                """))).hasMessage("spec.ingress[0].from[0].ipBlock.cidr: '10.0.0.0/33' has a prefix length out of 0..32");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector: {}
                ingress:
                  - ports: [{port: 70000}]
                """))).hasMessage("spec.ingress[0].ports[0].port: 70000 is out of range 1-65535");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector:
                  matchExpressions: [{key: app, operator: Is, values: [x]}]
                """))).hasMessage("spec.podSelector.matchExpressions[0].operator: 'Is' is not In, NotIn, Exists or DoesNotExist");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector: {}
                egress:
                  - to:
                      - ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}
                """))).hasMessage("spec.egress[0].to[0].ipBlock.except[0]: 192.168.0.0/16 is not strictly inside 10.0.0.0/8");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector: {}
                ingress:
                  - ports: [{endPort: 90}]
                """))).hasMessage("spec.ingress[0].ports[0].endPort: requires a numeric port");
        assertThatThrownBy(() -> PolicyParser.parse(policy("""
                podSelector: {}
                ingress:
                  - from: [{}]
                """))).hasMessage("spec.ingress[0].from[0]: must have podSelector, namespaceSelector or ipBlock");
        assertThatThrownBy(() -> PolicyParser.parse("spec: [unclosed"))
                .hasMessageStartingWith("(document): not valid YAML");
        assertThatThrownBy(() -> PolicyParser.parse(policy("ingress: []")))
                .hasMessage("spec.podSelector: is required ({} selects every pod of the namespace)");
    }

    @Test
    void weirPoliciesAreClusterWideWithoutANamespaceAndIsolateOnlyWhereTheyAllow() {
        Policy policy = PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: block-metadata}
                spec:
                  podSelector: {}
                  egressDeny:
                    - to: [{ipBlock: {cidr: 169.254.169.254/32}}]
                    - toEntities: [world]
                """).get(0);
        assertThat(policy.clusterWide()).isTrue();
        assertThat(policy.isolatesIngress()).isFalse();
        assertThat(policy.isolatesEgress()).isFalse();
        assertThat(policy.egressDeny()).hasSize(2);
        assertThat(policy.egressDeny().get(1).peers().get(0).entity()).isEqualTo(Policy.Entity.WORLD);
    }

    @Test
    void toFqdnsNeedsOneMatcherAndIsWeirsOnly() {
        String weir = """
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: f, namespace: shop}
                spec:
                  podSelector: {}
                  egress:
                    - toFQDNs: [%s]
                """;
        assertThat(PolicyParser.parse(weir.formatted("{matchName: api.example.com}")).get(0).egress().get(0).peers()
                .get(0).fqdn().matchName()).isEqualTo("api.example.com");
        assertThatThrownBy(() -> PolicyParser.parse(weir.formatted("{matchName: a.com, matchPattern: '*.a.com'}")))
                .hasMessage("spec.egress[0].toFQDNs[0]: needs exactly one of matchName and matchPattern");
        assertThatThrownBy(() -> PolicyParser.parse(weir.formatted("{matchName: '*.a.com'}")))
                .hasMessage("spec.egress[0].toFQDNs[0].matchName: '*.a.com' has a wildcard: use matchPattern");
        assertThatThrownBy(() -> PolicyParser.parse(policy("podSelector: {}\negress: [{toFQDNs: []}]")))
                .hasMessage("spec.egress[0].toFQDNs: unknown field");
    }
}
