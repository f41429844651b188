package dev.weir.policy.model;

import dev.weir.policy.model.Cluster.ContainerPort;
import dev.weir.policy.model.Cluster.Pod;
import dev.weir.policy.model.MapKey.Direction;
import dev.weir.policy.model.Policy.Peer;
import dev.weir.policy.model.Policy.Port;
import dev.weir.policy.model.Policy.Rule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The policy compiler: a pure function from (cluster, policies, identity allocator) to every
 * endpoint's map contents and the ipcache. Kubernetes NetworkPolicy semantics, made into the
 * datapath's identity-based lookups:
 * <ul>
 * <li>a pod is isolated in a direction when a policy of its namespace (or a cluster-wide one)
 *     selects it with that policy type; policies add up (union of allows);</li>
 * <li>peers become sets of identities (selectors match an identity's namespace labels and pod
 *     labels; an ipBlock becomes the CIDR identities of its prefixes and the identities of the
 *     pods whose addresses it holds, minus the excepted ones);</li>
 * <li>named ports resolve on the destination pod (the selected pod for ingress, each peer's pods
 *     for egress), by name and protocol; an endPort range becomes one entry per port;</li>
 * <li>deny rules (Weir's kind) produce deny entries, which win over every allow.</li>
 * </ul>
 * Replies of allowed connections need no entry: the datapath's conntrack passes them.
 */
public final class PolicyCompiler {

    private static final int FULL_RANGE_FIRST = 1;
    private static final int FULL_RANGE_LAST = 65535;

    private final Cluster cluster;
    private final List<Policy> policies;
    private final Identity.Allocator allocator;
    private final Map<Integer, Identity> identities = new LinkedHashMap<>();
    private final Map<String, Integer> podIdentity = new HashMap<>();
    private final Map<Integer, List<Pod>> podsByIdentity = new HashMap<>();
    private final Map<Cidr, Integer> ipcache = new LinkedHashMap<>();
    private final Map<Cidr, Integer> prefixIdentity = new LinkedHashMap<>();
    private final Map<String, Integer> cookies = new LinkedHashMap<>();
    private final Map<String, List<Pod>> podsByNamespace = new HashMap<>();
    private final Map<String, java.util.Set<String>> dnsAnswers;
    private final Map<String, Pod> podsByIp = new HashMap<>();
    /** Pod identities by namespace: a selector peer looks only at the namespaces it can match. */
    private final Map<String, List<Identity>> podIdentitiesByNamespace = new LinkedHashMap<>();
    private PodAddresses podAddresses;
    /** Node addresses that are neither a pod's nor the API server's, and the API server's that are no pod's. */
    private List<Cidr> nodeHosts;
    private List<Cidr> apiServerHosts;
    /** With {@link #affected}: the compilation whose endpoint results are kept for every other pod. */
    private Compilation previous;
    /** The pods to compile; null for all. */
    private Set<String> affected;

    private PolicyCompiler(Cluster cluster, List<Policy> policies, Identity.Allocator allocator,
            Map<String, java.util.Set<String>> dnsAnswers) {
        this.cluster = cluster;
        this.policies = policies;
        this.allocator = allocator;
        this.dnsAnswers = dnsAnswers;
    }

    /** Compiles with cookies 1, 2, ... in the order of the policies. */
    public static Compilation compile(Cluster cluster, List<Policy> policies, Identity.Allocator allocator) {
        Map<String, Integer> cookies = new LinkedHashMap<>();
        for (Policy policy : policies) {
            cookies.putIfAbsent(policy.key(), cookies.size() + 1);
        }
        return compile(cluster, policies, allocator, cookies);
    }

    /** Compiles with the given cookie for each policy key (stable across compilations in the service). */
    public static Compilation compile(Cluster cluster, List<Policy> policies, Identity.Allocator allocator,
            Map<String, Integer> cookies) {
        return compile(cluster, policies, allocator, cookies, Map.of());
    }

    /**
     * As above, with the DNS answers observed in the cluster (name → addresses), which toFQDNs
     * rules allow.
     */
    public static Compilation compile(Cluster cluster, List<Policy> policies, Identity.Allocator allocator,
            Map<String, Integer> cookies, Map<String, java.util.Set<String>> dnsAnswers) {
        PolicyCompiler compiler = new PolicyCompiler(cluster, policies, allocator, dnsAnswers);
        compiler.cookies.putAll(cookies);
        return compiler.run();
    }

    /**
     * Recompiles only the affected pods' endpoint policies and keeps the previous results of all
     * others; identities and the ipcache are derived in full (they are cheap). The caller vouches
     * that nothing an unaffected pod's result depends on has changed ({@link IncrementalCompiler}).
     */
    public static Compilation recompile(Cluster cluster, List<Policy> policies, Identity.Allocator allocator,
            Map<String, Integer> cookies, Map<String, java.util.Set<String>> dnsAnswers, Compilation previous,
            Set<String> affected) {
        PolicyCompiler compiler = new PolicyCompiler(cluster, policies, allocator, dnsAnswers);
        compiler.cookies.putAll(cookies);
        compiler.previous = previous;
        compiler.affected = affected;
        return compiler.run();
    }

    private Compilation run() {
        for (Pod pod : cluster.pods()) {
            Map<String, String> nsLabels = cluster.namespaceLabels(pod.namespace());
            int id = allocator.allocate(Identity.podKey(pod.namespace(), pod.labels(), nsLabels));
            if (!identities.containsKey(id)) {
                Identity identity = new Identity(id, pod.namespace(), pod.labels(), nsLabels, null);
                identities.put(id, identity);
                podIdentitiesByNamespace.computeIfAbsent(pod.namespace(), k -> new ArrayList<>()).add(identity);
            }
            podIdentity.put(pod.key(), id);
            podsByIdentity.computeIfAbsent(id, k -> new ArrayList<>()).add(pod);
            podsByNamespace.computeIfAbsent(pod.namespace(), k -> new ArrayList<>()).add(pod);
            podsByIp.put(pod.ip(), pod);
        }
        podAddresses = new PodAddresses(cluster.pods(), podIdentity);
        apiServerHosts = cluster.apiServer().stream().filter(a -> !podsByIp.containsKey(a)).map(Cidr::host).toList();
        nodeHosts = cluster.nodes().values().stream().flatMap(List::stream)
                .filter(a -> !podsByIp.containsKey(a) && !cluster.apiServer().contains(a)).map(Cidr::host).toList();
        for (Policy policy : policies) {
            for (List<Rule> rules : List.of(policy.ingress(), policy.egress(), policy.ingressDeny(), policy.egressDeny())) {
                for (Rule rule : rules) {
                    for (Peer peer : rule.peers()) {
                        if (peer.ipBlock() != null) {
                            prefix(peer.ipBlock().cidr());
                            peer.ipBlock().except().forEach(this::prefix);
                        }
                        if (peer.fqdn() != null) {
                            for (String address : answered(peer.fqdn())) {
                                if (!podsByIp.containsKey(address)) {
                                    prefix(Cidr.host(address));
                                }
                            }
                        }
                    }
                }
            }
        }
        ipcache.putAll(prefixIdentity);
        podAddresses.forEach(ipcache::put);
        // Nodes and the API server by their addresses; a pod's own address stays the pod's.
        for (List<String> addresses : cluster.nodes().values()) {
            for (String address : addresses) {
                if (!podsByIp.containsKey(address)) {
                    ipcache.put(Cidr.host(address), Identity.REMOTE_NODE);
                }
            }
        }
        for (String address : cluster.apiServer()) {
            if (!podsByIp.containsKey(address)) {
                ipcache.put(Cidr.host(address), Identity.KUBE_APISERVER);
            }
        }

        Map<String, EndpointBuilder> endpoints = new LinkedHashMap<>();
        for (Pod pod : cluster.pods()) {
            if (affected == null || affected.contains(pod.key())) {
                endpoints.put(pod.key(), new EndpointBuilder());
            }
        }
        for (Policy policy : policies) {
            int cookie = cookies.computeIfAbsent(policy.key(), k -> cookies.size() + 1);
            List<Pod> selected = selected(policy);
            if (selected.isEmpty()) {
                continue;
            }
            Map<Object, Set<Integer>> peerCache = new HashMap<>();
            for (Pod pod : selected) {
                EndpointBuilder endpoint = endpoints.get(pod.key());
                if (endpoint == null) {
                    continue; // not affected: its previous result stands
                }
                endpoint.policies.add(policy.key());
                if (policy.isolatesIngress()) {
                    endpoint.ingressIsolated = true;
                    for (Rule rule : policy.ingress()) {
                        ingress(endpoint, pod, policy, rule, cookie, false, peerCache);
                    }
                }
                if (policy.isolatesEgress()) {
                    endpoint.egressIsolated = true;
                    for (Rule rule : policy.egress()) {
                        egress(endpoint, policy, rule, cookie, false, peerCache);
                    }
                }
                for (Rule rule : policy.ingressDeny()) {
                    ingress(endpoint, pod, policy, rule, cookie, true, peerCache);
                }
                for (Rule rule : policy.egressDeny()) {
                    egress(endpoint, policy, rule, cookie, true, peerCache);
                }
            }
        }
        Map<String, EndpointPolicy> compiled = new LinkedHashMap<>();
        for (Pod pod : cluster.pods()) {
            EndpointBuilder b = endpoints.get(pod.key());
            compiled.put(pod.key(), b != null ? new EndpointPolicy(b.ingressIsolated, b.egressIsolated, b.entries, b.policies)
                    : previous.endpoint(pod.key()));
        }
        return new Compilation(compiled, Map.copyOf(ipcache), Map.copyOf(identities), Map.copyOf(cookies));
    }

    private static final class EndpointBuilder {
        boolean ingressIsolated;
        boolean egressIsolated;
        final Map<MapKey, MapEntry> entries = new HashMap<>();
        final Set<String> policies = new LinkedHashSet<>();

        void put(MapKey key, MapEntry entry) {
            MapEntry existing = entries.get(key);
            // A deny wins over an allow; between equals the first policy keeps its cookie.
            if (existing == null || (entry.deny() && !existing.deny())) {
                entries.put(key, entry);
            }
        }
    }

    private void prefix(Cidr cidr) {
        prefixIdentity.computeIfAbsent(cidr, c -> {
            int id = allocator.allocate(Identity.cidrKey(c));
            identities.put(id, new Identity(id, null, Map.of(), Map.of(), c));
            return id;
        });
    }

    /** The pods a policy selects, found by identity: pods of one identity share the labels a selector reads. */
    private List<Pod> selected(Policy policy) {
        List<Pod> selected = new ArrayList<>();
        for (Identity identity : candidates(policy)) {
            if (policy.podSelector().matches(identity.podLabels())) {
                for (Pod pod : podsByIdentity.get(identity.id())) {
                    if (affected == null || affected.contains(pod.key())) {
                        selected.add(pod);
                    }
                }
            }
        }
        return selected;
    }

    /** The pod identities a policy's own scope holds: its namespace's, or every one for a cluster-wide policy. */
    private Iterable<Identity> candidates(Policy policy) {
        if (policy.clusterWide()) {
            return () -> podIdentitiesByNamespace.values().stream().flatMap(List::stream).iterator();
        }
        return podIdentitiesByNamespace.getOrDefault(policy.namespace(), List.of());
    }

    private void ingress(EndpointBuilder endpoint, Pod destination, Policy policy, Rule rule, int cookie, boolean deny,
            Map<Object, Set<Integer>> peerCache) {
        Set<Integer> peers = peerCache.computeIfAbsent(List.of(rule, deny), r -> peers(policy, rule, deny));
        for (int[] port : ports(rule.ports(), destination.ports())) {
            for (int peer : peers) {
                endpoint.put(new MapKey(peer, port[0], port[1], port[2], Direction.INGRESS), new MapEntry(cookie, deny));
            }
        }
    }

    private void egress(EndpointBuilder endpoint, Policy policy, Rule rule, int cookie, boolean deny,
            Map<Object, Set<Integer>> peerCache) {
        Set<Integer> peers = peerCache.computeIfAbsent(List.of(rule, deny), r -> peers(policy, rule, deny));
        boolean named = rule.ports().stream().anyMatch(p -> p.name() != null);
        if (!named) {
            for (int[] port : ports(rule.ports(), List.of())) {
                for (int peer : peers) {
                    endpoint.put(new MapKey(peer, port[0], port[1], port[2], Direction.EGRESS), new MapEntry(cookie, deny));
                }
            }
            return;
        }
        // A named port means what each destination pod calls it: resolve it per peer identity.
        Set<Integer> destinations = peers.contains(Identity.ANY) ? podsByIdentity.keySet() : peers;
        for (int peer : destinations) {
            for (Pod pod : podsByIdentity.getOrDefault(peer, List.of())) {
                for (int[] port : ports(rule.ports(), pod.ports())) {
                    endpoint.put(new MapKey(peer, port[0], port[1], port[2], Direction.EGRESS), new MapEntry(cookie, deny));
                }
            }
        }
        if (peers.contains(Identity.ANY) || destinations.stream().anyMatch(p -> !podsByIdentity.containsKey(p))) {
            // Non-pod destinations have no named ports: only the rule's numbered ports apply to them.
            List<Port> numbered = rule.ports().stream().filter(p -> p.name() == null).toList();
            if (!numbered.isEmpty()) {
                for (int[] port : ports(numbered, List.of())) {
                    for (int peer : peers) {
                        if (!podsByIdentity.containsKey(peer)) {
                            endpoint.put(new MapKey(peer, port[0], port[1], port[2], Direction.EGRESS), new MapEntry(cookie, deny));
                        }
                    }
                }
            }
        }
    }

    /**
     * {first port, last port, protocol} a rule's ports mean on a destination with these container
     * ports: a range stays one range (the datapath stores it as a few prefixes), 0..0 is any port.
     */
    static List<int[]> ports(List<Port> ports, List<ContainerPort> destinationPorts) {
        List<int[]> result = new ArrayList<>();
        if (ports.isEmpty()) {
            result.add(new int[] {0, 0, 0});
            return result;
        }
        for (Port port : ports) {
            int protocol = port.protocol().number();
            if (port.name() != null) {
                for (ContainerPort c : destinationPorts) {
                    if (c.name().equals(port.name()) && c.protocol() == port.protocol()) {
                        result.add(new int[] {c.port(), c.port(), protocol});
                    }
                }
            } else if (port.number() == null) {
                result.add(new int[] {0, 0, protocol});
            } else {
                int first = port.number();
                int last = port.endPort() == null ? first : port.endPort();
                if (first <= FULL_RANGE_FIRST && last >= FULL_RANGE_LAST) {
                    result.add(new int[] {0, 0, protocol});
                } else {
                    result.add(new int[] {first, last, protocol});
                }
            }
        }
        return result;
    }

    /** The identities a rule's peers stand for; {ANY} when the rule names no peer. */
    private Set<Integer> peers(Policy policy, Rule rule, boolean deny) {
        Set<Integer> result = new HashSet<>();
        if (rule.peers().isEmpty()) {
            result.add(Identity.ANY);
            return result;
        }
        for (Peer peer : rule.peers()) {
            if (peer.entity() != null) {
                entity(peer.entity(), result);
            } else if (peer.fqdn() != null) {
                for (String address : answered(peer.fqdn())) {
                    Pod pod = podsByIp.get(address);
                    result.add(pod != null ? podIdentity.get(pod.key()) : prefixIdentity.get(Cidr.host(address)));
                }
            } else if (peer.ipBlock() != null) {
                ipBlock(peer.ipBlock(), result, deny);
            } else if (peer.namespaceSelector() == null) {
                // podSelector alone: pods of the policy's own namespace (any namespace for a cluster-wide policy)
                selectPods(candidates(policy), peer.podSelector(), result);
            } else {
                for (List<Identity> namespace : podIdentitiesByNamespace.values()) {
                    // every identity of a namespace carries the namespace's labels
                    if (peer.namespaceSelector().matches(namespace.get(0).namespaceLabels())) {
                        selectPods(namespace, peer.podSelector(), result);
                    }
                }
            }
        }
        return result;
    }

    private static void selectPods(Iterable<Identity> candidates, LabelSelector podSelector, Set<Integer> result) {
        for (Identity identity : candidates) {
            if (podSelector == null || podSelector.matches(identity.podLabels())) {
                result.add(identity.id());
            }
        }
    }

    private void ipBlock(Policy.IpBlock block, Set<Integer> result, boolean deny) {
        for (Map.Entry<Cidr, Integer> prefix : prefixIdentity.entrySet()) {
            if (block.cidr().contains(prefix.getKey()) && block.except().stream().noneMatch(e -> e.contains(prefix.getKey()))) {
                result.add(prefix.getValue());
            }
        }
        if (block.cidr().length() == 0) {
            result.add(Identity.WORLD); // addresses in no prefix of the ipcache
        }
        // Pods are addresses too: a pod inside the block (and outside its exceptions) is allowed.
        podAddresses.within(block.cidr(), (host, identity) -> {
            if (outsideExceptions(block, host)) {
                result.add(identity);
            }
        });
        // So are nodes and the API server, whose addresses have their entities' identities. The
        // API server's identity is its addresses only. Nodes share one identity: a deny takes it
        // when the block holds any node (never fewer denied than the block says), an allow only
        // when it holds every node (never more allowed than the block says).
        if (apiServerHosts.stream().anyMatch(host -> inBlock(block, host))) {
            result.add(Identity.KUBE_APISERVER);
        }
        long inside = nodeHosts.stream().filter(host -> inBlock(block, host)).count();
        if (inside > 0 && (deny || inside == nodeHosts.size())) {
            result.add(Identity.REMOTE_NODE);
        }
    }

    private static boolean inBlock(Policy.IpBlock block, Cidr host) {
        return block.cidr().contains(host) && outsideExceptions(block, host);
    }

    private static boolean outsideExceptions(Policy.IpBlock block, Cidr host) {
        for (Cidr except : block.except()) {
            if (except.contains(host)) {
                return false;
            }
        }
        return true;
    }

    /** The addresses DNS answered for the names an FQDN selector matches. */
    private Set<String> answered(Policy.Fqdn fqdn) {
        Set<String> addresses = new java.util.TreeSet<>();
        dnsAnswers.forEach((name, ips) -> {
            if (fqdn.matches(name)) {
                for (String ip : ips) {
                    try {
                        Cidr.host(ip);
                        addresses.add(ip);
                    } catch (IllegalArgumentException notAnAddress) {
                        // an answer that is no address has nothing to allow
                    }
                }
            }
        });
        return addresses;
    }

    private void entity(Policy.Entity entity, Set<Integer> result) {
        switch (entity) {
            case ALL -> result.add(Identity.ANY);
            case WORLD -> {
                result.add(Identity.WORLD);
                prefixIdentity.values().forEach(result::add);
            }
            case HOST -> result.add(Identity.HOST);
            case REMOTE_NODE -> result.add(Identity.REMOTE_NODE);
            case KUBE_APISERVER -> result.add(Identity.KUBE_APISERVER);
            case CLUSTER -> {
                result.addAll(podsByIdentity.keySet());
                result.add(Identity.HOST);
                result.add(Identity.REMOTE_NODE);
                result.add(Identity.KUBE_APISERVER);
            }
        }
    }
}
