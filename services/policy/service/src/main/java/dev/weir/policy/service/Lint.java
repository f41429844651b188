package dev.weir.policy.service;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.Protocol;
import java.util.ArrayList;
import java.util.List;

/**
 * Warnings about policies that are valid but probably not what their author meant, each with the
 * field it concerns. The seed talk's commonest mistake comes first: a default-deny egress that
 * forgets DNS.
 */
public final class Lint {

    public record Warning(String policy, String field, String message) {
    }

    private static final int DNS_PORT = 53;

    private Lint() {
    }

    public static List<Warning> lint(List<Policy> policies, Cluster cluster) {
        List<Warning> warnings = new ArrayList<>();
        for (Policy policy : policies) {
            String key = policy.key();
            List<Cluster.Pod> selected = cluster.pods().stream()
                    .filter(p -> (policy.clusterWide() || p.namespace().equals(policy.namespace()))
                            && policy.podSelector().matches(p.labels()))
                    .toList();
            if (selected.isEmpty()) {
                warnings.add(new Warning(key, "spec.podSelector", "selects no pod"
                        + (policy.clusterWide() ? "" : " in namespace " + policy.namespace())));
            }
            if (policy.isolatesEgress() && !allowsDns(policy)) {
                warnings.add(new Warning(key, "spec.egress", "isolates egress without allowing DNS (UDP and TCP port 53 "
                        + "to the cluster DNS service): name lookups of the selected pods will time out"));
            }
            for (int r = 0; r < policy.ingress().size(); r++) {
                List<Policy.Port> ports = policy.ingress().get(r).ports();
                for (int p = 0; p < ports.size(); p++) {
                    Policy.Port port = ports.get(p);
                    if (port.name() != null && !selected.isEmpty() && selected.stream().noneMatch(pod -> pod.ports().stream()
                            .anyMatch(c -> c.name().equals(port.name()) && c.protocol() == port.protocol()))) {
                        warnings.add(new Warning(key, "spec.ingress[" + r + "].ports[" + p + "].port", "no selected pod "
                                + "exposes a " + port.protocol() + " port named '" + port.name() + "'"));
                    }
                }
            }
        }
        return warnings;
    }

    /** Whether some egress rule lets UDP port 53 out (to any peer: the DNS service's pods or address). */
    static boolean allowsDns(Policy policy) {
        for (Policy.Rule rule : policy.egress()) {
            if (rule.ports().isEmpty()) {
                return true;
            }
            for (Policy.Port port : rule.ports()) {
                boolean udp = port.protocol() == Protocol.UDP;
                boolean covers = port.name() != null ? port.name().contains("dns")
                        : port.number() == null || (port.number() <= DNS_PORT
                                && (port.endPort() == null ? port.number() : port.endPort()) >= DNS_PORT);
                if (udp && covers) {
                    return true;
                }
            }
        }
        return false;
    }
}
