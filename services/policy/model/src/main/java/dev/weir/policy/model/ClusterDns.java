package dev.weir.policy.model;

import java.util.Map;

/**
 * The cluster's DNS resolver as Kubernetes' DNS add-ons (CoreDNS, kube-dns) deploy it: pods
 * labelled {@code k8s-app: kube-dns} in {@code kube-system}. The namespace is part of it: a tenant
 * cannot make its own pod the resolver by labelling it.
 */
public final class ClusterDns {

    public static final String NAMESPACE = "kube-system";
    public static final String LABEL = "k8s-app";
    public static final String VALUE = "kube-dns";
    public static final int PORT = 53;

    private ClusterDns() {
    }

    public static boolean resolver(String namespace, Map<String, String> labels) {
        return NAMESPACE.equals(namespace) && VALUE.equals(labels.get(LABEL));
    }

    public static boolean resolver(Cluster.Pod pod) {
        return resolver(pod.namespace(), pod.labels());
    }
}
