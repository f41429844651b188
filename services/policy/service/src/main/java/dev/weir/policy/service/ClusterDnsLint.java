package dev.weir.policy.service;

import dev.weir.api.policy.LintWarning;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.ClusterDns;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import java.util.ArrayList;
import java.util.List;

/**
 * The seed talk's commonest policy mistake: cutting pods off the cluster's DNS. Judged on the
 * compiled policies, as the datapath will judge the lookups: a selected pod that can reach no
 * resolver on UDP port 53 is cut off, whatever else its policies allow (a port-less ipBlock to
 * the outside world does not reach a resolver inside the cluster), and so are the clients of a
 * resolver whose own ingress a policy closes.
 */
final class ClusterDnsLint {

    private static final int DNS_PORT = ClusterDns.PORT;
    private static final int EXAMPLES = 3;
    private static final String FIX = "allow egress to {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            + "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}} on 53/UDP and 53/TCP";

    private ClusterDnsLint() {
    }

    static List<LintWarning> lint(List<Policy> policies, Cluster cluster, Compilation all) {
        List<Cluster.Pod> resolvers = cluster.pods().stream().filter(ClusterDns::resolver).toList();
        List<LintWarning> warnings = new ArrayList<>();
        for (Policy policy : policies) {
            boolean egress = policy.isolatesEgress() || !policy.egressDeny().isEmpty();
            boolean ingress = policy.isolatesIngress() || !policy.ingressDeny().isEmpty();
            if (egress && resolvers.isEmpty() && policy.isolatesEgress() && !mayAllowDns(policy)) {
                warnings.add(new LintWarning(policy.key(), "spec.egress", "isolates egress without allowing DNS (UDP port 53 "
                        + "to the cluster resolver): name lookups of the selected pods will time out; " + FIX));
            }
            if (egress && !resolvers.isEmpty()) {
                List<String> cut = cluster.pods().stream()
                        .filter(p -> policy.selects(p) && !resolvers.contains(p) && resolvers.stream()
                                .noneMatch(r -> lookup(all, cluster, p, r).egress().allowed()))
                        .map(Cluster.Pod::key).toList();
                if (!cut.isEmpty()) {
                    warnings.add(new LintWarning(policy.key(), "spec.egress", "cuts " + pods(cut) + " off the cluster DNS ("
                            + names(resolvers) + " on UDP port 53): whatever else it allows, their name lookups will time "
                            + "out; " + FIX));
                }
            }
            if (ingress) {
                for (Cluster.Pod resolver : resolvers) {
                    if (!policy.selects(resolver)) {
                        continue;
                    }
                    List<String> clients = cluster.pods().stream()
                            .filter(p -> !resolvers.contains(p) && !lookup(all, cluster, p, resolver).ingress().allowed())
                            .map(Cluster.Pod::key).toList();
                    if (!clients.isEmpty()) {
                        warnings.add(new LintWarning(policy.key(), "spec.ingress", "closes the cluster resolver "
                                + resolver.key() + " to " + pods(clients) + " on UDP port 53: their name lookups through it "
                                + "will time out; allow ingress from {namespaceSelector: {}} on 53/UDP and 53/TCP"));
                    }
                }
            }
        }
        return warnings;
    }

    /**
     * Both ends of a lookup: the client's egress (an egress policy's business) and the resolver's
     * ingress (the resolver's policy's), each judged alone so that each policy is told of its own end.
     * Judged on the resolver's pod address: a lookup sent to the DNS Service's ClusterIP is judged
     * at the client as the ipcache gives that address (see the README's limits).
     */
    private static Verdicts.PathDecision lookup(Compilation all, Cluster cluster, Cluster.Pod client, Cluster.Pod resolver) {
        return Verdicts.decide(all, cluster, client, client.ip(), resolver, resolver.ip(), DNS_PORT, Protocol.UDP);
    }

    private static String pods(List<String> keys) {
        String examples = String.join(", ", keys.subList(0, Math.min(EXAMPLES, keys.size())));
        return keys.size() == 1 ? "pod " + examples
                : keys.size() + " pods (" + examples + (keys.size() > EXAMPLES ? ", …" : "") + ")";
    }

    private static String names(List<Cluster.Pod> resolvers) {
        List<String> keys = resolvers.stream().map(Cluster.Pod::key).toList();
        return String.join(", ", keys.subList(0, Math.min(EXAMPLES, keys.size()))) + (keys.size() > EXAMPLES ? ", …" : "");
    }

    /**
     * Without a resolver pod to judge against (the resolver outside the cluster, or not labelled
     * as Kubernetes labels it): whether some egress rule could reach one on UDP port 53. A rule
     * counts when its ports cover 53/UDP and its peers could hold the resolver: every peer, pods
     * of other namespaces, the cluster, or an address block opened on port 53 by name or number.
     * A port-less address block is the outside world, not the resolver.
     */
    static boolean mayAllowDns(Policy policy) {
        for (Policy.Rule rule : policy.egress()) {
            boolean portless = rule.ports().isEmpty();
            if (!portless && rule.ports().stream().noneMatch(ClusterDnsLint::coversDns)) {
                continue;
            }
            if (rule.peers().isEmpty()) {
                return true;
            }
            for (Policy.Peer peer : rule.peers()) {
                boolean pods = peer.namespaceSelector() != null
                        || (peer.podSelector() != null && (policy.clusterWide() || policy.namespace().equals("kube-system")));
                boolean entity = peer.entity() == Policy.Entity.ALL || peer.entity() == Policy.Entity.CLUSTER;
                boolean block = peer.ipBlock() != null && !portless;
                if (pods || entity || block) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean coversDns(Policy.Port port) {
        if (port.protocol() != Protocol.UDP) {
            return false;
        }
        if (port.name() != null) {
            return port.name().contains("dns");
        }
        return port.number() == null
                || (port.number() <= DNS_PORT && (port.endPort() == null ? port.number() : port.endPort()) >= DNS_PORT);
    }
}
