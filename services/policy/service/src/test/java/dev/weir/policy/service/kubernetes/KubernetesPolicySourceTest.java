package dev.weir.policy.service.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The NetworkPolicy watch against fabric8's mock API server (no cluster exists here). */
class KubernetesPolicySourceTest {

    static KubernetesMockServer server;
    static KubernetesClient client;

    @BeforeAll
    static void start() {
        server = MockApiServer.start();
        client = MockApiServer.client(server);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.destroy();
    }

    final List<Policy> applied = new CopyOnWriteArrayList<>();
    final List<String> deleted = new CopyOnWriteArrayList<>();

    final KubernetesPolicySource.Sink sink = new KubernetesPolicySource.Sink() {
        @Override
        public void applied(List<PolicyParser.Parsed> policies) {
            policies.forEach(p -> applied.add(p.policy()));
        }

        @Override
        public void deleted(String kind, String namespace, String name) {
            deleted.add(kind + "/" + namespace + "/" + name);
        }
    };

    static NetworkPolicy policy(String name, int port) {
        return policy("shop", name, port);
    }

    static NetworkPolicy policy(String namespace, String name, int port) {
        return new NetworkPolicyBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .withNewSpec().withNewPodSelector().addToMatchLabels("app", "cart").endPodSelector()
                .addNewIngress().addNewFrom().withNewNamespaceSelector().addToMatchLabels("team", "web")
                .endNamespaceSelector().endFrom().addNewPort().withPort(new IntOrString(port)).withProtocol("TCP").endPort()
                .endIngress().endSpec().build();
    }

    List<Policy> cartIngress() {
        return applied.stream().filter(p -> p.name().equals("cart-ingress")).toList();
    }

    @Test
    void addedChangedAndDeletedPoliciesReachTheSink() {
        try (KubernetesPolicySource source = new KubernetesPolicySource(client, sink).start()) {
            client.network().v1().networkPolicies().inNamespace("shop").resource(policy("cart-ingress", 8080)).create();
            await().atMost(Duration.ofSeconds(10)).until(() -> cartIngress().size() == 1);
            Policy first = cartIngress().get(0);
            assertThat(first.namespace()).isEqualTo("shop");
            assertThat(first.name()).isEqualTo("cart-ingress");
            assertThat(first.isolatesIngress()).isTrue();
            assertThat(first.isolatesEgress()).isFalse();
            assertThat(first.ingress().get(0).ports().get(0).number()).isEqualTo(8080);
            assertThat(first.ingress().get(0).peers().get(0).namespaceSelector().matchLabels()).containsEntry("team", "web");

            client.network().v1().networkPolicies().inNamespace("shop").resource(policy("cart-ingress", 9090)).update();
            await().atMost(Duration.ofSeconds(10)).until(() -> cartIngress().size() == 2);
            assertThat(cartIngress().get(1).ingress().get(0).ports().get(0).number()).isEqualTo(9090);

            client.network().v1().networkPolicies().inNamespace("shop").withName("cart-ingress").delete();
            await().atMost(Duration.ofSeconds(10)).until(() -> deleted.size() == 1);
            assertThat(deleted).containsExactly("NetworkPolicy/shop/cart-ingress");
        }
    }

    @Test
    void aPolicyTheParserRefusesIsCountedAndTheNextOneStillArrives() {
        try (KubernetesPolicySource source = new KubernetesPolicySource(client, sink).start()) {
            NetworkPolicy bad = new NetworkPolicyBuilder(policy("other", "bad-cidr", 80)).editSpec().editFirstIngress()
                    .addNewFrom().withNewIpBlock().withCidr("10.0.0.0/99").endIpBlock().endFrom().endIngress().endSpec().build();
            client.network().v1().networkPolicies().inNamespace("other").resource(bad).create();
            client.network().v1().networkPolicies().inNamespace("other").resource(policy("other", "good", 80)).create();
            await().atMost(Duration.ofSeconds(10)).until(() -> applied.stream().anyMatch(p -> p.name().equals("good")));
            assertThat(source.rejected()).isEqualTo(1);
            assertThat(applied).noneMatch(p -> p.name().equals("bad-cidr"));
        }
    }
}
