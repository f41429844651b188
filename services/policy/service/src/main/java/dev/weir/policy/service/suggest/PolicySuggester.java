package dev.weir.policy.service.suggest;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.ClusterDns;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.service.suggest.ObservedTraffic.Edge;
import dev.weir.policy.service.suggest.ObservedTraffic.Party;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Least-privilege policies from observed traffic: one per workload, isolating both directions and
 * allowing exactly the peers and ports it was seen using. Peers are selected by their stable
 * labels and their namespace's name label, ports by the name the destination pods give them
 * where they all give it one, addresses outside the pods by entity (the node, the API server),
 * by the DNS names they answered for (toFQDNs), or as /32 blocks. A workload that resolves names
 * always gets DNS to the cluster resolver; the resolver always takes lookups from every pod and node.
 */
public final class PolicySuggester {

    /** Distinct outside addresses of one workload and direction beyond which one rule takes any address. */
    static final int MAX_ADDRESSES = 16;
    /** Distinct ports of one protocol to one peer beyond which the rule takes every port of the protocol. */
    static final int MAX_PORTS = 32;
    private static final int DNS_PORT = ClusterDns.PORT;
    static final String NAMESPACE_LABEL = "kubernetes.io/metadata.name";
    /** What a toFQDNs matchName may hold (the parser's rule): a name the agent escaped or a wildcard is not one. */
    private static final java.util.regex.Pattern FQDN = java.util.regex.Pattern.compile("[-a-zA-Z0-9_.]{1,253}");

    /** A peer of a rule. */
    public sealed interface Peer {
        /** Pods with these labels; namespace null for the policy's own. */
        record Pods(String namespace, Map<String, String> labels) implements Peer {
        }

        /** Every pod of a namespace (null: of every namespace). */
        record Namespace(String namespace) implements Peer {
        }

        /** The cluster's DNS resolver. */
        record Resolver() implements Peer {
        }

        record Block(String cidr) implements Peer {
        }

        record Entity(String name) implements Peer {
        }

        /** The DNS names the workload's flows gave the addresses. */
        record Fqdn(List<String> names) implements Peer {
        }
    }

    /** A port: by number or by name; number 0 without a name is every port of the protocol. */
    public record Port(String protocol, int number, String name) implements Comparable<Port> {
        /** "http/TCP", "8080/TCP", "any/UDP". */
        public String display() {
            return (name != null ? name : number == 0 ? "any" : Integer.toString(number)) + "/" + protocol;
        }

        @Override
        public int compareTo(Port o) {
            return Comparator.comparing(Port::protocol).thenComparingInt(Port::number)
                    .thenComparing(p -> p.name == null ? "" : p.name).compare(this, o);
        }
    }

    /** The evidence of one port of a rule. */
    public record Evidence(Port port, long flows, long first, long last) {
    }

    /** A rule: peers, ports, and the evidence per port (none for a rule every suggestion of its kind carries). */
    public record Rule(List<Peer> peers, List<Port> ports, String peerDisplay, List<Evidence> evidence, String reason) {
        public boolean weirOnly() {
            return peers.stream().anyMatch(p -> p instanceof Peer.Entity || p instanceof Peer.Fqdn);
        }

        public long flows() {
            return evidence.stream().mapToLong(Evidence::flows).sum();
        }
    }

    /** A suggested policy for one workload. */
    public record Suggestion(String namespace, String name, String workload, Map<String, String> podSelector,
            List<Rule> ingress, List<Rule> egress) {
        public boolean weirOnly() {
            return ingress.stream().anyMatch(Rule::weirOnly) || egress.stream().anyMatch(Rule::weirOnly);
        }
    }

    /** The suggestions, and the workloads left out with the reason. */
    public record Result(List<Suggestion> suggestions, List<String> notes) {
    }

    private final Map<String, List<Cluster.Pod>> podsByNamespace = new java.util.HashMap<>();
    /** Named-port answers by destination party, port and protocol: each is asked of the cluster once. */
    private final Map<String, Port> ports = new java.util.HashMap<>();

    public PolicySuggester(Cluster cluster) {
        cluster.pods().forEach(p -> podsByNamespace.computeIfAbsent(p.namespace(), k -> new ArrayList<>()).add(p));
    }

    /** Suggestions for the workloads of the namespace (every namespace when null). */
    public Result suggest(ObservedTraffic traffic, String namespace) {
        Map<Party, List<Edge>> in = new LinkedHashMap<>();
        Map<Party, List<Edge>> out = new LinkedHashMap<>();
        Set<Party> workloads = new java.util.LinkedHashSet<>();
        for (Edge edge : traffic.edges()) {
            if (edge.destination.pod()) {
                in.computeIfAbsent(edge.destination, k -> new ArrayList<>()).add(edge);
                workloads.add(edge.destination);
            }
            if (edge.source.pod()) {
                out.computeIfAbsent(edge.source, k -> new ArrayList<>()).add(edge);
                workloads.add(edge.source);
            }
        }
        List<Suggestion> suggestions = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<Party> sorted = new ArrayList<>(workloads);
        sorted.sort(Comparator.comparing((Party p) -> p.namespace).thenComparing(p -> p.workloadName));
        for (Party workload : sorted) {
            if (namespace != null && !namespace.equals(workload.namespace)) {
                continue;
            }
            if (workload.labels.isEmpty()) {
                notes.add(workload.display() + ": its pods share no stable label to select them by; no policy suggested");
                continue;
            }
            if (workload.incomplete) {
                notes.add(workload.display() + ": some of its connections were beyond the bounds of what a suggestion "
                        + "keeps (" + ObservedTraffic.MAX_EDGES_PER_SOURCE + " patterns per workload): its policy may miss them");
            }
            String name = uniqueName(workload, names);
            List<Rule> ingress = ingress(workload, in.getOrDefault(workload, List.of()));
            List<Rule> egress = egress(workload, out.getOrDefault(workload, List.of()));
            suggestions.add(new Suggestion(workload.namespace, name, workload.display(), workload.labels, ingress, egress));
        }
        return new Result(suggestions, notes);
    }

    private List<Rule> ingress(Party workload, List<Edge> edges) {
        List<Rule> rules = new ArrayList<>();
        if (resolver(workload)) {
            List<Edge> lookups = edges.stream().filter(PolicySuggester::dns).toList();
            rules.add(new Rule(List.of(new Peer.Namespace(null), new Peer.Entity("host"), new Peer.Entity("remote-node")),
                    dnsPorts(), "every pod and node of the cluster", evidence(lookups, e -> new Port(e.protocol, e.port, null)),
                    "the cluster resolver takes lookups from every pod and node (host-network pods too), seen or not"));
            edges = edges.stream().filter(e -> !dns(e)).toList();
        }
        rules.addAll(rules(workload, edges, true));
        return rules;
    }

    private List<Rule> egress(Party workload, List<Edge> edges) {
        List<Rule> rules = new ArrayList<>();
        List<Edge> lookups = edges.stream().filter(e -> e.destination.pod() && resolver(e.destination) && dns(e)).toList();
        List<Edge> rest = edges.stream().filter(e -> !lookups.contains(e)).toList();
        List<Rule> others = rules(workload, rest, false);
        boolean resolves = !lookups.isEmpty() || others.stream().anyMatch(r -> r.peers().stream().anyMatch(p -> p instanceof Peer.Fqdn));
        if (resolves) {
            List<Evidence> evidence = evidence(lookups, e -> new Port(e.protocol, e.port, null));
            rules.add(new Rule(List.of(new Peer.Resolver()), dnsPorts(), "the cluster resolver", evidence,
                    lookups.isEmpty() ? "the toFQDNs rules below learn their addresses from its answers" : null));
        }
        rules.addAll(others);
        return rules;
    }

    /** One rule per peer, with the ports it was seen on; outside addresses beyond a bound become one rule. */
    private List<Rule> rules(Party workload, List<Edge> edges, boolean ingress) {
        Map<String, List<Edge>> byPeer = new TreeMap<>();
        Set<String> outside = new TreeSet<>();
        for (Edge e : edges) {
            Party peer = ingress ? e.source : e.destination;
            byPeer.computeIfAbsent(peer.key, k -> new ArrayList<>()).add(e);
            if (!peer.pod() && entity(peer) == null && (ingress || names(List.of(e)).isEmpty())) {
                outside.add(peer.key);
            }
        }
        List<Rule> rules = new ArrayList<>();
        if (outside.size() > MAX_ADDRESSES) {
            List<Edge> collapsed = new ArrayList<>();
            outside.forEach(k -> collapsed.addAll(byPeer.remove(k)));
            boolean v6 = collapsed.stream().anyMatch(e -> (ingress ? e.source : e.destination).address.contains(":"));
            boolean v4 = collapsed.stream().anyMatch(e -> !(ingress ? e.source : e.destination).address.contains(":"));
            List<Peer> peers = new ArrayList<>();
            if (v4) {
                peers.add(new Peer.Block("0.0.0.0/0"));
            }
            if (v6) {
                peers.add(new Peer.Block("::/0"));
            }
            rules.add(new Rule(peers, ports(collapsed, workload, ingress), outside.size() + " addresses outside the cluster",
                    evidence(collapsed, e -> port(e, workload, ingress)), "more than " + MAX_ADDRESSES
                            + " distinct addresses: any address on these ports"));
        }
        // Parties that come out as one peer (the addresses of one name, workloads with the same labels) make one rule.
        Map<Peer, List<Edge>> byRulePeer = new LinkedHashMap<>();
        Map<Peer, Set<String>> displays = new LinkedHashMap<>();
        for (List<Edge> peerEdges : byPeer.values()) {
            Party party = ingress ? peerEdges.get(0).source : peerEdges.get(0).destination;
            Peer peer = peer(party, workload, ingress, names(peerEdges));
            byRulePeer.computeIfAbsent(peer, k -> new ArrayList<>()).addAll(peerEdges);
            displays.computeIfAbsent(peer, k -> new TreeSet<>())
                    .add(peer instanceof Peer.Entity e ? e.name() + " " + party.display() : party.display());
        }
        byRulePeer.forEach((peer, peerEdges) -> {
            Set<String> shown = displays.get(peer);
            String display = peer instanceof Peer.Fqdn f ? String.join(", ", f.names()) + " (" + String.join(", ", shown) + ")"
                    : String.join(", ", shown);
            rules.add(new Rule(List.of(peer), ports(peerEdges, workload, ingress), display,
                    evidence(peerEdges, e -> port(e, workload, ingress)), null));
        });
        return rules;
    }

    /** The valid DNS names the workload's flows gave an address, sorted. */
    private static List<String> names(List<Edge> edges) {
        Set<String> names = new TreeSet<>();
        edges.forEach(e -> e.names.stream().filter(n -> FQDN.matcher(n).matches()).forEach(names::add));
        return List.copyOf(names);
    }

    private Peer peer(Party peer, Party workload, boolean ingress, List<String> names) {
        if (peer.pod()) {
            if (peer.labels.isEmpty()) {
                return new Peer.Namespace(peer.namespace);
            }
            return new Peer.Pods(peer.namespace.equals(workload.namespace) ? null : peer.namespace, peer.labels);
        }
        String entity = entity(peer);
        if (entity != null) {
            return new Peer.Entity(entity);
        }
        if (!ingress && !names.isEmpty()) {
            return new Peer.Fqdn(names);
        }
        return new Peer.Block(peer.address + (peer.address.contains(":") ? "/128" : "/32"));
    }

    /** The reserved identities a NetworkPolicy cannot name by address alone (every node shares one). */
    private static String entity(Party party) {
        return switch (party.identity) {
            case dev.weir.policy.model.Identity.HOST -> "host";
            case dev.weir.policy.model.Identity.REMOTE_NODE -> "remote-node";
            case dev.weir.policy.model.Identity.KUBE_APISERVER -> "kube-apiserver";
            default -> null;
        };
    }

    private List<Port> ports(List<Edge> edges, Party workload, boolean ingress) {
        Set<Port> ports = new TreeSet<>();
        edges.forEach(e -> ports.add(port(e, workload, ingress)));
        // Many ports of one protocol (a scan, a range of ephemeral ports): every port of it, one line.
        Map<String, Long> perProtocol = new TreeMap<>();
        ports.forEach(p -> perProtocol.merge(p.protocol(), 1L, Long::sum));
        perProtocol.forEach((protocol, count) -> {
            if (count > MAX_PORTS) {
                ports.removeIf(p -> p.protocol().equals(protocol));
                ports.add(new Port(protocol, 0, null));
            }
        });
        return List.copyOf(ports);
    }

    /**
     * The port by the name its destination pods give it, when every pod the rule's destination
     * selector selects today gives it that one name (a named port resolves on each pod); else by number.
     */
    private Port port(Edge edge, Party workload, boolean ingress) {
        Party destination = ingress ? workload : edge.destination;
        if (!destination.pod() || destination.labels.isEmpty()) {
            return new Port(edge.protocol, edge.port, null);
        }
        return ports.computeIfAbsent(destination.key + ":" + edge.port + "/" + edge.protocol, k -> named(edge, destination));
    }

    private Port named(Edge edge, Party destination) {
        Set<String> names = new HashSet<>();
        int pods = 0;
        for (Cluster.Pod pod : podsByNamespace.getOrDefault(destination.namespace, List.of())) {
            if (!pod.labels().entrySet().containsAll(destination.labels.entrySet())) {
                continue;
            }
            pods++;
            String name = null;
            for (Cluster.ContainerPort declared : pod.ports()) {
                if (declared.port() == edge.port && declared.protocol().name().equals(edge.protocol) && !declared.name().isEmpty()) {
                    name = declared.name();
                }
            }
            names.add(name);
        }
        boolean oneName = pods > 0 && names.size() == 1 && !names.contains(null);
        return new Port(edge.protocol, edge.port, oneName ? names.iterator().next() : null);
    }

    private static List<Evidence> evidence(List<Edge> edges, java.util.function.Function<Edge, Port> port) {
        Map<String, Long> perProtocol = new TreeMap<>();
        edges.stream().map(port).distinct().forEach(p -> perProtocol.merge(p.protocol(), 1L, Long::sum));
        Map<Port, long[]> byPort = new TreeMap<>();
        for (Edge e : edges) {
            Port p = port.apply(e);
            // As the rule does: many ports of one protocol are every port of it.
            Port key = perProtocol.get(p.protocol()) > MAX_PORTS ? new Port(p.protocol(), 0, null) : p;
            long[] acc = byPort.computeIfAbsent(key, k -> new long[] {0, Long.MAX_VALUE, Long.MIN_VALUE});
            acc[0] += e.flows();
            acc[1] = Math.min(acc[1], e.first);
            acc[2] = Math.max(acc[2], e.last);
        }
        List<Evidence> evidence = new ArrayList<>();
        byPort.forEach((p, acc) -> evidence.add(new Evidence(p, acc[0], acc[1], acc[2])));
        return evidence;
    }

    private static List<Port> dnsPorts() {
        return List.of(new Port(Protocol.TCP.name(), DNS_PORT, null), new Port(Protocol.UDP.name(), DNS_PORT, null));
    }

    private static boolean dns(Edge e) {
        return e.port == DNS_PORT && (e.protocol.equals("UDP") || e.protocol.equals("TCP"));
    }

    private static boolean resolver(Party party) {
        return party.pod() && ClusterDns.resolver(party.namespace, party.labels);
    }

    /** suggested-&lt;workload&gt;, a DNS-1123 name, with the kind added where two workloads of a namespace share one. */
    private static String uniqueName(Party workload, Set<String> taken) {
        String base = "suggested-" + dns1123(workload.workloadName);
        String name = base;
        if (taken.contains(workload.namespace + "/" + name)) {
            name = base + "-" + dns1123(workload.workloadKind.isEmpty() ? "pods" : workload.workloadKind);
        }
        for (int i = 2; taken.contains(workload.namespace + "/" + name); i++) {
            name = base + "-" + i;
        }
        taken.add(workload.namespace + "/" + name);
        return name;
    }

    private static String dns1123(String text) {
        String name = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        if (name.length() > 40) {
            name = name.substring(0, 40).replaceAll("-+$", "");
        }
        return name.isEmpty() ? "workload" : name;
    }
}
