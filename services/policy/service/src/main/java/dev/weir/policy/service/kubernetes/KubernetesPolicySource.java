package dev.weir.policy.service.kubernetes;

import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NetworkPolicies and WeirNetworkPolicies (the weir.dev/v1 custom resource) of a Kubernetes
 * cluster as a source of policies: an informer per kind over every namespace hands each added or
 * changed policy, as the API server serves it, to the same parser and store the REST API uses,
 * and each deleted one to the store's delete. A policy the parser
 * rejects is counted and logged with its field, and the others go on.
 */
public final class KubernetesPolicySource implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(KubernetesPolicySource.class);

    /** Where policies go. */
    public interface Sink {
        void applied(List<PolicyParser.Parsed> policies);

        void deleted(String kind, String namespace, String name);
    }

    private final KubernetesClient client;
    private final Sink sink;
    private final AtomicLong rejected = new AtomicLong();
    private SharedIndexInformer<NetworkPolicy> informer;
    private SharedIndexInformer<io.fabric8.kubernetes.api.model.GenericKubernetesResource> weirInformer;
    /** The custom resource the chart's CRD defines. */
    public static final io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext WEIR_POLICIES =
            new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder().withGroup("weir.dev")
                    .withVersion("v1").withKind(Policy.WEIR_POLICY).withPlural("weirnetworkpolicies").withNamespaced(true)
                    .build();

    public KubernetesPolicySource(KubernetesClient client, Sink sink) {
        this.client = client;
        this.sink = sink;
    }

    public KubernetesPolicySource start() {
        informer = client.network().v1().networkPolicies().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(NetworkPolicy policy) {
                apply(policy);
            }

            @Override
            public void onUpdate(NetworkPolicy before, NetworkPolicy after) {
                apply(after);
            }

            @Override
            public void onDelete(NetworkPolicy policy, boolean finalStateUnknown) {
                sink.deleted(Policy.NETWORK_POLICY, policy.getMetadata().getNamespace(), policy.getMetadata().getName());
            }
        }, 0);
        weirInformer = client.genericKubernetesResources(WEIR_POLICIES).inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(io.fabric8.kubernetes.api.model.GenericKubernetesResource policy) {
                apply(policy, Policy.WEIR_POLICY);
            }

            @Override
            public void onUpdate(io.fabric8.kubernetes.api.model.GenericKubernetesResource before,
                    io.fabric8.kubernetes.api.model.GenericKubernetesResource after) {
                apply(after, Policy.WEIR_POLICY);
            }

            @Override
            public void onDelete(io.fabric8.kubernetes.api.model.GenericKubernetesResource policy,
                    boolean finalStateUnknown) {
                sink.deleted(Policy.WEIR_POLICY, policy.getMetadata().getNamespace(), policy.getMetadata().getName());
            }
        }, 0);
        return this;
    }

    private void apply(NetworkPolicy policy) {
        apply(policy, Policy.NETWORK_POLICY);
    }

    private void apply(io.fabric8.kubernetes.api.model.HasMetadata policy, String kind) {
        String json = client.getKubernetesSerialization().asJson(policy);
        try {
            sink.applied(PolicyParser.parseWithSource(json));
        } catch (PolicyParser.InvalidPolicy e) {
            rejected.incrementAndGet();
            LOG.warn("{} {}/{} not applied: {}", kind, policy.getMetadata().getNamespace(),
                    policy.getMetadata().getName(), e.getMessage());
        }
    }

    /** Policies the parser refused since start. */
    public long rejected() {
        return rejected.get();
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        if (weirInformer != null) {
            weirInformer.close();
        }
    }
}
