package dev.weir.policy.service.kubernetes;

import dev.weir.policy.service.PolicyStore;
import dev.weir.policy.service.Reconciler;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Where a cluster exists (weir.kubernetes.enabled=true): watch its NetworkPolicies and
 * WeirNetworkPolicies, and publish its Pods, Namespaces, Nodes and API server addresses on Kafka
 * for the agents (the cluster's one metadata watch). The client finds the API server as kubectl
 * does (in-cluster service account, or kubeconfig), or at weir.kubernetes.master-url.
 */
@Configuration
@ConditionalOnProperty(name = "weir.kubernetes.enabled", havingValue = "true")
public class KubernetesWatchConfiguration {

    @Bean(destroyMethod = "close")
    @org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean
    KubernetesClient kubernetesClient(@Value("${weir.kubernetes.master-url:}") String masterUrl) {
        KubernetesClientBuilder builder = new KubernetesClientBuilder();
        if (!masterUrl.isBlank()) {
            builder.withConfig(new ConfigBuilder().withMasterUrl(masterUrl).build());
        }
        return builder.build();
    }

    @Bean(destroyMethod = "close")
    ClusterMetadataWatcher clusterMetadataWatcher(KubernetesClient client,
            dev.weir.policy.service.PolicyServiceProperties properties) {
        var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
                dev.weir.common.kafka.KafkaClients.producerConfig(properties.kafka(), "weir-policy-metadata"));
        return new ClusterMetadataWatcher(client, producer, dev.weir.schemas.TopicCatalogue.standard()).start();
    }

    @Bean(destroyMethod = "close")
    KubernetesPolicySource kubernetesPolicySource(KubernetesClient client, PolicyStore store, Reconciler reconciler) {
        return new KubernetesPolicySource(client, new KubernetesPolicySource.Sink() {
            @Override
            public void applied(java.util.List<dev.weir.policy.model.PolicyParser.Parsed> policies) {
                store.apply(policies, "kubernetes", "kubernetes");
                reconciler.request();
            }

            @Override
            public void deleted(String kind, String namespace, String name) {
                store.delete(kind, namespace, name, "kubernetes");
                reconciler.request();
            }
        }).start();
    }
}
