package dev.weir.policy.model;

import java.util.List;

/**
 * A network policy as the compiler reads it: a Kubernetes NetworkPolicy (allow rules only) or a
 * Weir policy (allow and deny rules, entities), both namespaced, or cluster-wide for Weir's kind.
 *
 * @param namespace   the policy's namespace; empty for a cluster-wide policy
 * @param isolatesIngress whether the selected pods are isolated for ingress (policyTypes)
 */
public record Policy(String kind, String namespace, String name, LabelSelector podSelector,
        boolean isolatesIngress, boolean isolatesEgress, List<Rule> ingress, List<Rule> egress,
        List<Rule> ingressDeny, List<Rule> egressDeny) {

    public static final String NETWORK_POLICY = "NetworkPolicy";
    public static final String WEIR_POLICY = "WeirNetworkPolicy";

    public Policy {
        ingress = List.copyOf(ingress);
        egress = List.copyOf(egress);
        ingressDeny = List.copyOf(ingressDeny);
        egressDeny = List.copyOf(egressDeny);
    }

    public boolean clusterWide() {
        return namespace.isEmpty();
    }

    /** Whether the policy applies to the pod: its namespace (any, cluster-wide) and its podSelector. */
    public boolean selects(Cluster.Pod pod) {
        return (clusterWide() || pod.namespace().equals(namespace)) && podSelector.matches(pod.labels());
    }

    public String key() {
        return kind + "/" + (namespace.isEmpty() ? "" : namespace + "/") + name;
    }

    /**
     * One rule: traffic from (ingress) or to (egress) any of the peers, on any of the ports.
     * No peers means every peer; no ports means every port of every protocol.
     */
    public record Rule(List<Peer> peers, List<Port> ports) {
        public Rule {
            peers = List.copyOf(peers);
            ports = List.copyOf(ports);
        }
    }

    /**
     * A peer: pods selected by podSelector in the namespaces selected by namespaceSelector (each
     * null when absent: podSelector alone means the policy's namespace, namespaceSelector alone
     * every pod of those namespaces), or an ipBlock, or an entity (Weir policies).
     */
    public record Peer(LabelSelector podSelector, LabelSelector namespaceSelector, IpBlock ipBlock, Entity entity,
            Fqdn fqdn) {
        public Peer(LabelSelector podSelector, LabelSelector namespaceSelector, IpBlock ipBlock, Entity entity) {
            this(podSelector, namespaceSelector, ipBlock, entity, null);
        }
    }

    /**
     * A DNS name (Weir's toFQDNs): the addresses observed in DNS answers for it are allowed.
     * matchName is exact; in matchPattern "*" alone matches every name, and elsewhere any run of
     * characters within one label ("*.example.com" matches a.example.com, not a.b.example.com).
     */
    public record Fqdn(String matchName, String matchPattern) {
        public boolean matches(String name) {
            String n = normal(name);
            if (matchName != null) {
                return n.equals(normal(matchName));
            }
            String p = normal(matchPattern);
            if (p.equals("*")) {
                return true;
            }
            StringBuilder regex = new StringBuilder();
            for (String part : p.split("\\*", -1)) {
                if (regex.length() > 0) {
                    regex.append("[-a-z0-9_]*");
                }
                regex.append(java.util.regex.Pattern.quote(part));
            }
            return n.matches(regex.toString());
        }

        private static String normal(String name) {
            String lower = name.toLowerCase(java.util.Locale.ROOT);
            return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
        }
    }

    public record IpBlock(Cidr cidr, List<Cidr> except) {
        public IpBlock {
            except = List.copyOf(except);
        }
    }

    /** Weir's entities, as Cilium names them. */
    public enum Entity { WORLD, CLUSTER, HOST, REMOTE_NODE, KUBE_APISERVER, ALL }

    /**
     * A port: a number (with an optional endPort), a name resolved on the destination pod, or
     * neither for every port of the protocol.
     */
    public record Port(Protocol protocol, Integer number, Integer endPort, String name) {
    }
}
