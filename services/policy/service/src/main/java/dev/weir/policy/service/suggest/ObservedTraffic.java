package dev.weir.policy.service.suggest;

import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.Verdict;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The allowed traffic of recorded flows, between parties: workloads (the pods of one controller,
 * or of one set of stable labels) and addresses outside the cluster's pods. Only the first
 * packet of a connection counts (a DNS query opens one too: its first packet is a new
 * connection before it is a DNS event), and only when it was
 * forwarded: a suggestion allows what works today, not what is refused today. A connection
 * seen at both ends (the sender's egress, the receiver's ingress) counts once, as the larger
 * of the two sightings, so that traffic seen at one end only still counts; one the sender let
 * out and the receiver only ever dropped did not work, and is no evidence.
 */
public final class ObservedTraffic implements Consumer<Flow> {

    /**
     * Labels that differ between pods of one workload or change with each rollout: never a
     * selector's (pod-template-hash is the classic; the others are their StatefulSet, DaemonSet
     * and Job equivalents).
     */
    static final Set<String> UNSTABLE_LABELS = Set.of("pod-template-hash", "controller-revision-hash",
            "pod-template-generation", "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
            "controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name",
            "batch.kubernetes.io/job-completion-index",
            // They change with a rollout: a peer's rule on them would stop matching its next pods.
            "version", "app.kubernetes.io/version", "helm.sh/chart", "chart");
    static final int MAX_PARTIES = 20_000;
    static final int MAX_EDGES = 200_000;
    /** Connection patterns one workload may make: a pod that scans uses up its own workload's, no other's. */
    static final int MAX_EDGES_PER_SOURCE = 2_000;
    static final int MAX_NAMES = 8;

    /** A workload (namespace, and controller kind/name or stable labels) or an address outside the pods. */
    public static final class Party {
        final String key;
        final String namespace;
        final String workloadKind;
        final String workloadName;
        /** The stable labels every pod of the workload seen had; null for an address. */
        Map<String, String> labels;
        final String address;
        final int identity;
        /** Connection patterns this party opened. */
        int edges;
        /** Whether some of its connection patterns were beyond the bound and left out. */
        boolean incomplete;

        Party(String key, String namespace, String workloadKind, String workloadName, Map<String, String> labels,
                String address, int identity) {
            this.key = key;
            this.namespace = namespace;
            this.workloadKind = workloadKind;
            this.workloadName = workloadName;
            this.labels = labels;
            this.address = address;
            this.identity = identity;
        }

        public boolean pod() {
            return labels != null;
        }

        /** How a person names it: shop/cart (Deployment cart), or the address. */
        public String display() {
            if (!pod()) {
                return address;
            }
            return namespace + "/" + workloadName + (workloadKind.isEmpty() ? "" : " (" + workloadKind + ")");
        }
    }

    /** Traffic from one party to another on one port, and when it was seen. */
    public static final class Edge {
        final Party source;
        final Party destination;
        final int port;
        final String protocol;
        long seenAtSource;
        long seenAtDestination;
        long refusedAtDestination;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        /** The DNS names the source's flows gave the destination address (bounded): per workload, as the agent keeps them. */
        final Set<String> names = new TreeSet<>();

        Edge(Party source, Party destination, int port, String protocol) {
            this.source = source;
            this.destination = destination;
            this.port = port;
            this.protocol = protocol;
        }

        public long flows() {
            return Math.max(seenAtSource, seenAtDestination);
        }

        /** Whether the traffic worked: let in at the destination, or never refused there. */
        public boolean worked() {
            return seenAtDestination > 0 || (refusedAtDestination == 0 && seenAtSource > 0);
        }
    }

    private final Map<String, Party> parties = new HashMap<>();
    /**
     * The party of each pod seen (by namespace, name and identity: new labels are a new identity),
     * whose labels are already in its party's: a pod's later flows cost one lookup. Bounded:
     * cleared when full, and then merely recomputed.
     */
    private final Map<String, Party> podParties = new HashMap<>();
    static final int MAX_PODS = 200_000;
    private final Map<String, Edge> edges = new LinkedHashMap<>();
    private long beyondBounds;

    @Override
    public void accept(Flow flow) {
        if (flow.getIsReply()) {
            return;
        }
        boolean refusedOnArrival = flow.getVerdict() == Verdict.DROPPED && flow.getEventType() == EventType.DROP
                && flow.getTracePoint() == TracePoint.TO_ENDPOINT;
        // Audited is let through: in audit mode that is the traffic a policy must learn to allow.
        boolean through = flow.getVerdict() == Verdict.FORWARDED || flow.getVerdict() == Verdict.AUDIT;
        if (!refusedOnArrival && (!through || flow.getEventType() != EventType.NEW_CONNECTION)) {
            return;
        }
        // ICMP and the like: NetworkPolicies name no port for them.
        int port = dev.weir.common.flow.FlowFilters.destinationPort(flow);
        if (port <= 0) {
            return;
        }
        String protocol = dev.weir.common.flow.FlowFilters.protocol(flow).toUpperCase(java.util.Locale.ROOT);
        Party source = party(flow.getSource(), flow.getIp().getSource());
        Party destination = party(flow.getDestination(), flow.getIp().getDestination());
        if (source == null || destination == null) {
            beyondBounds++;
            return;
        }
        String key = source.key + ">" + destination.key + ":" + port + "/" + protocol;
        Edge edge = edges.get(key);
        if (edge == null) {
            if (edges.size() >= MAX_EDGES || source.edges >= MAX_EDGES_PER_SOURCE) {
                source.incomplete = true;
                destination.incomplete |= destination.pod();
                beyondBounds++;
                return;
            }
            edge = new Edge(source, destination, port, protocol);
            edges.put(key, edge);
            source.edges++;
        }
        if (refusedOnArrival) {
            edge.refusedAtDestination++;
            return;
        }
        if (flow.getTracePoint() == TracePoint.TO_ENDPOINT) {
            edge.seenAtDestination++;
        } else {
            edge.seenAtSource++;
        }
        long at = flow.getTime().getSeconds() * 1000 + flow.getTime().getNanos() / 1_000_000;
        edge.first = Math.min(edge.first, at);
        edge.last = Math.max(edge.last, at);
        if (!destination.pod()) {
            for (int i = 0; i < flow.getDestinationNamesCount() && edge.names.size() < MAX_NAMES; i++) {
                String n = flow.getDestinationNames(i);
                edge.names.add(n.endsWith(".") ? n.substring(0, n.length() - 1) : n);
            }
        }
    }

    private Party party(Endpoint endpoint, String address) {
        boolean pod = !endpoint.getPodName().isEmpty() && !endpoint.getNamespace().isEmpty();
        String podKey = null;
        if (pod) {
            podKey = endpoint.getNamespace() + "/" + endpoint.getPodName() + "#" + endpoint.getIdentity();
            Party known = podParties.get(podKey);
            if (known != null) {
                return known;
            }
        }
        if (pod && !dev.weir.policy.model.PolicyParser.validNamespace(endpoint.getNamespace())) {
            return null; // no namespace Kubernetes would have: nothing a policy could be written for
        }
        Map<String, String> labels = pod ? stableLabels(endpoint) : null;
        String key;
        String kind = "";
        String name;
        if (!pod) {
            // By identity too: a node's address is the host to its own pods and a remote node to the others.
            key = "address:" + address + "#" + endpoint.getIdentity();
            name = address;
        } else if (endpoint.getWorkloadsCount() > 0 && !endpoint.getWorkloads(0).getName().isEmpty()) {
            kind = endpoint.getWorkloads(0).getKind();
            name = endpoint.getWorkloads(0).getName();
            key = "workload:" + endpoint.getNamespace() + "/" + kind + "/" + name;
        } else {
            // No controller known: the pods with these stable labels are one workload.
            name = labels.isEmpty() ? endpoint.getPodName() : labels.toString();
            key = "labels:" + endpoint.getNamespace() + "/" + (labels.isEmpty() ? "pod=" + endpoint.getPodName() : labels);
        }
        Party party = parties.get(key);
        if (party == null) {
            if (parties.size() >= MAX_PARTIES) {
                return null;
            }
            party = new Party(key, pod ? endpoint.getNamespace() : "", kind, name, labels, pod ? "" : address,
                    endpoint.getIdentity());
            parties.put(key, party);
        } else if (pod) {
            // A selector for the workload may only use what all of its pods have.
            party.labels.entrySet().retainAll(labels.entrySet());
        }
        if (pod) {
            if (podParties.size() >= MAX_PODS) {
                podParties.clear();
            }
            podParties.put(podKey, party);
        }
        return party;
    }

    private static Map<String, String> stableLabels(Endpoint endpoint) {
        Map<String, String> labels = new TreeMap<>();
        for (String label : endpoint.getLabelsList()) {
            int eq = label.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = label.substring(0, eq);
            String value = label.substring(eq + 1);
            // A label Kubernetes would refuse cannot be selected by: left out, never written.
            if (!UNSTABLE_LABELS.contains(key) && !key.startsWith("io.kubernetes.") && !key.contains(":")
                    && dev.weir.policy.model.PolicyParser.validLabel(key, value)) {
                labels.put(key, value);
            }
        }
        return labels;
    }

    /** The workloads some of whose traffic was beyond the bounds: their suggestions are incomplete. */
    public java.util.List<Party> incomplete() {
        return parties.values().stream().filter(p -> p.incomplete && p.pod()).toList();
    }

    /** The traffic that worked. */
    public java.util.List<Edge> edges() {
        return edges.values().stream().filter(Edge::worked).toList();
    }

    /** Flows of parties or connections beyond the bounds, or of no valid namespace, left out of the suggestion. */
    public long beyondBounds() {
        return beyondBounds;
    }
}
