package dev.weir.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Nodes and the API server in the compiler: their entities' identities, and ipBlocks that hold their addresses. */
class NodeEntitiesTest {

    static Cluster cluster() {
        return new Cluster()
                .namespace("shop", Map.of("kubernetes.io/metadata.name", "shop"))
                .node("node-1", List.of("10.0.0.1"))
                .node("node-2", List.of("10.0.1.1"))
                .apiServer(List.of("10.0.0.100"))
                .pod(new Cluster.Pod("shop", "web", Map.of("app", "web"), "198.18.1.10", List.of(), "node-1", 1));
    }

    static Set<Integer> egressPeers(String to, boolean deny) {
        String rules = (deny ? "egressDeny" : "egress") + ":\n    - to: [{ipBlock: {cidr: " + to + "}}]\n";
        String kind = deny ? "apiVersion: weir.dev/v1\nkind: WeirNetworkPolicy\n" : "apiVersion: networking.k8s.io/v1\n"
                + "kind: NetworkPolicy\n";
        Compilation compiled = PolicyCompiler.compile(cluster(), PolicyParser.parse(kind
                + "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  " + rules),
                new Identity.LocalAllocator());
        return compiled.endpoint("shop/web").entries().keySet().stream().map(MapKey::identity).collect(Collectors.toSet());
    }

    @Test
    void nodesAreRemoteNodesAndTheApiServerIsKubeApiserverInTheIpcache() {
        Compilation compiled = PolicyCompiler.compile(cluster(), List.of(), new Identity.LocalAllocator());
        assertThat(compiled.identityOf("10.0.0.1")).isEqualTo(Identity.REMOTE_NODE);
        assertThat(compiled.identityOf("10.0.1.1")).isEqualTo(Identity.REMOTE_NODE);
        assertThat(compiled.identityOf("10.0.0.100")).isEqualTo(Identity.KUBE_APISERVER);
        assertThat(compiled.identityOf("198.18.1.10")).isGreaterThanOrEqualTo(256);
    }

    @Test
    void anIpBlockHoldingTheApiServerAllowsItAsNetworkPoliciesDo() {
        assertThat(egressPeers("10.0.0.100/32", false)).contains(Identity.KUBE_APISERVER)
                .doesNotContain(Identity.REMOTE_NODE);
    }

    @Test
    void anAllowTakesTheNodesOnlyWhenItHoldsEveryNodeAndADenyWhenItHoldsAny() {
        assertThat(egressPeers("10.0.0.0/16", false)).as("both nodes").contains(Identity.REMOTE_NODE);
        assertThat(egressPeers("10.0.0.0/24", false)).as("one node of two").doesNotContain(Identity.REMOTE_NODE);
        assertThat(egressPeers("10.0.0.0/24", true)).as("deny, one node of two").contains(Identity.REMOTE_NODE);
    }

    @Test
    void theRemoteNodeEntityIsTheNodes() {
        Compilation compiled = PolicyCompiler.compile(cluster(), PolicyParser.parse("""
                apiVersion: weir.dev/v1
                kind: WeirNetworkPolicy
                metadata: {name: p, namespace: shop}
                spec:
                  podSelector: {}
                  policyTypes: [Ingress]
                  ingress:
                    - fromEntities: [remote-node]
                """), new Identity.LocalAllocator());
        assertThat(compiled.endpoint("shop/web").entries().keySet()).extracting(MapKey::identity)
                .containsExactly(Identity.REMOTE_NODE);
    }
}
