package dev.weir.policy.model;

import dev.weir.policy.model.Cluster.ContainerPort;
import dev.weir.policy.model.Cluster.Pod;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a stream of changes, recompiling only the endpoints a change affects.
 *
 * <p>An endpoint's result depends on the policies that select it, its own labels and ports, and
 * the cluster-wide universe its policies' peers are drawn from: the identities (pod and CIDR),
 * which pods expose which named ports per identity, the pods' addresses (ipBlock and toFQDNs
 * rules match pods by address) and the DNS answers. When the universe is unchanged, a change
 * affects only the pods selected by a changed policy (before or after the change), the pods
 * that changed themselves and, when DNS answered anew, the pods of policies with toFQDNs peers;
 * anything else falls back to a full compile. Every incremental result
 * equals a full compile of the same inputs (checked by IncrementalCompilerTest on random changes).
 */
public final class IncrementalCompiler {

    /** A compilation and the pods it compiled; {@code recompiled} is null after a full compile. */
    public record Result(Compilation compilation, Set<String> recompiled) {
        public boolean full() {
            return recompiled == null;
        }
    }

    private final Identity.Allocator allocator;
    private Compilation last;
    private Map<String, Policy> lastPolicies = Map.of();
    private Map<String, Pod> lastPods = Map.of();
    private Map<String, Set<String>> lastDns = Map.of();
    private Map<String, Cluster.Namespace> lastNamespaces = Map.of();
    private Map<String, List<String>> lastNodes = Map.of();
    private List<String> lastApiServer = List.of();

    public IncrementalCompiler(Identity.Allocator allocator) {
        this.allocator = allocator;
    }

    public Result compile(Cluster cluster, List<Policy> policies, Map<String, Integer> cookies,
            Map<String, Set<String>> dnsAnswers) {
        Map<String, Policy> policiesByKey = new HashMap<>();
        policies.forEach(p -> policiesByKey.put(p.key(), p));
        Map<String, Pod> pods = new HashMap<>();
        cluster.pods().forEach(p -> pods.put(p.key(), p));
        Set<String> affected = last == null ? null : affected(cluster, policiesByKey, pods, dnsAnswers);
        Compilation compiled = null;
        if (affected != null) {
            compiled = PolicyCompiler.recompile(cluster, policies, allocator, cookies, dnsAnswers, last, affected);
            if (!compiled.identities().keySet().equals(last.identities().keySet()) || cookiesMoved(compiled)) {
                compiled = null; // a new or vanished identity (e.g. a CIDR a changed policy names) changes the universe
            }
        }
        if (compiled == null) {
            affected = null;
            compiled = PolicyCompiler.compile(cluster, policies, allocator, cookies, dnsAnswers);
        }
        last = compiled;
        lastPolicies = policiesByKey;
        lastPods = pods;
        lastDns = Map.copyOf(dnsAnswers);
        lastNamespaces = Map.copyOf(cluster.namespaces());
        lastNodes = Map.copyOf(cluster.nodes());
        lastApiServer = cluster.apiServer();
        return new Result(compiled, affected);
    }

    /** Whether a policy kept from the last compilation has another cookie now (its entries would be stale). */
    private boolean cookiesMoved(Compilation compiled) {
        for (Map.Entry<String, Integer> cookie : last.cookies().entrySet()) {
            Integer now = compiled.cookies().get(cookie.getKey());
            if (now != null && !now.equals(cookie.getValue())) {
                return true;
            }
        }
        return false;
    }

    /** The pods to recompile, or null when the peers' universe changed and everything must be. */
    private Set<String> affected(Cluster cluster, Map<String, Policy> policies, Map<String, Pod> pods,
            Map<String, Set<String>> dnsAnswers) {
        if (!namedPorts(pods.values()).equals(namedPorts(lastPods.values()))) {
            return null;
        }
        // Namespace labels are part of every identity; nodes and the API server are entities' addresses.
        if (!cluster.namespaces().equals(lastNamespaces) || !cluster.nodes().equals(lastNodes)
                || !cluster.apiServer().equals(lastApiServer)) {
            return null;
        }
        // New DNS answers change only the endpoints of policies with toFQDNs peers (and, through new
        // CIDR identities, the universe: compile() falls back to a full compile then).
        boolean dnsChanged = !dnsAnswers.equals(lastDns);
        Set<String> changedPods = new HashSet<>();
        boolean addressesChanged = false;
        for (Pod pod : pods.values()) {
            Pod before = lastPods.get(pod.key());
            if (!pod.equals(before)) {
                changedPods.add(pod.key());
                // ipBlock and toFQDNs peers take the identity of the pod at an address: new address or new labels
                addressesChanged |= before == null || !before.ip().equals(pod.ip()) || !before.labels().equals(pod.labels());
            }
        }
        for (Pod before : lastPods.values()) {
            if (!pods.containsKey(before.key())) {
                addressesChanged = true;
            }
        }
        if (addressesChanged && policies.values().stream().anyMatch(IncrementalCompiler::matchesAddresses)) {
            return null;
        }
        Set<String> affected = new HashSet<>(changedPods);
        Set<Policy> changedPolicies = new HashSet<>();
        policies.forEach((key, policy) -> {
            if (!policy.equals(lastPolicies.get(key)) || (dnsChanged && matchesNames(policy))) {
                changedPolicies.add(policy);
            }
        });
        lastPolicies.forEach((key, policy) -> {
            if (!policy.equals(policies.get(key))) {
                changedPolicies.add(policy);
            }
        });
        for (Policy policy : changedPolicies) {
            for (Pod pod : cluster.pods()) {
                if ((policy.clusterWide() || pod.namespace().equals(policy.namespace()))
                        && policy.podSelector().matches(pod.labels())) {
                    affected.add(pod.key());
                }
            }
        }
        return affected;
    }

    /** Whether a policy has peers matched by address (ipBlock, toFQDNs), which pods' addresses change. */
    private static boolean matchesAddresses(Policy policy) {
        for (List<Policy.Rule> rules : List.of(policy.ingress(), policy.egress(), policy.ingressDeny(), policy.egressDeny())) {
            for (Policy.Rule rule : rules) {
                for (Policy.Peer peer : rule.peers()) {
                    if (peer.ipBlock() != null || peer.fqdn() != null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether a policy has toFQDNs peers, which DNS answers change. */
    private static boolean matchesNames(Policy policy) {
        for (List<Policy.Rule> rules : List.of(policy.ingress(), policy.egress(), policy.ingressDeny(), policy.egressDeny())) {
            for (Policy.Rule rule : rules) {
                for (Policy.Peer peer : rule.peers()) {
                    if (peer.fqdn() != null) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Named ports by identity key: what egress named-port rules resolve against. */
    private static Map<String, Set<ContainerPort>> namedPorts(Iterable<Pod> pods) {
        Map<String, Set<ContainerPort>> ports = new HashMap<>();
        for (Pod pod : pods) {
            if (!pod.ports().isEmpty()) {
                ports.computeIfAbsent(pod.namespace() + "|" + new java.util.TreeMap<>(pod.labels()), k -> new HashSet<>())
                        .addAll(pod.ports());
            }
        }
        return ports;
    }
}
