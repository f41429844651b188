package dev.weir.policy.model;

import java.util.Map;
import java.util.TreeMap;

/**
 * A security identity: what selectors match against. Pod identities carry the namespace, its
 * labels and the pod's labels; CIDR identities their prefix; reserved identities neither.
 */
public record Identity(int id, String namespace, Map<String, String> podLabels, Map<String, String> namespaceLabels,
        Cidr cidr) {

    public static final int ANY = 0;
    public static final int HOST = 1;
    public static final int WORLD = 2;
    /** Any node's address but the one's own (the agent writes HOST for its node's). */
    public static final int REMOTE_NODE = 6;
    public static final int KUBE_APISERVER = 7;

    public boolean pod() {
        return namespace != null;
    }

    /** The identity's natural key: the labels that make two pods the same identity. */
    public static String podKey(String namespace, Map<String, String> podLabels, Map<String, String> namespaceLabels) {
        StringBuilder key = new StringBuilder();
        new TreeMap<>(podLabels).forEach((k, v) -> key.append("k8s:").append(k).append('=').append(v).append(','));
        key.append("k8s:io.kubernetes.pod.namespace=").append(namespace);
        new TreeMap<>(namespaceLabels).forEach((k, v) ->
                key.append(",k8s:io.cilium.k8s.namespace.labels.").append(k).append('=').append(v));
        return key.toString();
    }

    public static String cidrKey(Cidr cidr) {
        return "cidr:" + cidr;
    }

    /** Hands out identity numbers by natural key: the same key, the same number. */
    public interface Allocator {
        int allocate(String key);
    }

    /** An in-memory allocator from 256 on, for models and tests; the service keeps them in PostgreSQL. */
    public static final class LocalAllocator implements Allocator {
        private final Map<String, Integer> ids = new java.util.HashMap<>();
        private int next = 256;

        @Override
        public synchronized int allocate(String key) {
            return ids.computeIfAbsent(key, k -> next++);
        }
    }
}
