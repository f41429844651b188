package dev.weir.policy.service.suggest;

import dev.weir.policy.model.ClusterDns;
import dev.weir.policy.service.suggest.PolicySuggester.Evidence;
import dev.weir.policy.service.suggest.PolicySuggester.Peer;
import dev.weir.policy.service.suggest.PolicySuggester.Port;
import dev.weir.policy.service.suggest.PolicySuggester.Rule;
import dev.weir.policy.service.suggest.PolicySuggester.Suggestion;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * A suggestion as the YAML a person reviews and applies: a Kubernetes NetworkPolicy, or a
 * WeirNetworkPolicy where a rule needs an entity or a DNS name, with a comment above each rule
 * naming the traffic that justifies it. Every text from the flows is written as a double-quoted
 * scalar and every comment is one printable line, so no label can break the document.
 */
public final class SuggestionYaml {

    private SuggestionYaml() {
    }

    public static String render(Suggestion s, Instant since, Instant until, long flows) {
        StringBuilder y = new StringBuilder();
        boolean weir = s.weirOnly();
        y.append("# Suggested for ").append(comment(s.workload())).append(" from ").append(flows).append(" recorded flows, ")
                .append(time(since.toEpochMilli())).append(" to ").append(time(until.toEpochMilli())).append('\n');
        y.append("apiVersion: ").append(weir ? "weir.dev/v1" : "networking.k8s.io/v1").append('\n');
        y.append("kind: ").append(weir ? "WeirNetworkPolicy" : "NetworkPolicy").append('\n');
        y.append("metadata:\n  name: ").append(quote(s.name())).append("\n  namespace: ").append(quote(s.namespace())).append('\n');
        y.append("spec:\n  podSelector:\n    matchLabels:\n");
        labels(y, s.podSelector(), "      ");
        y.append("  policyTypes: [\"Ingress\", \"Egress\"]\n");
        section(y, "ingress", "from", "fromEntities", s.ingress());
        section(y, "egress", "to", "toEntities", s.egress());
        return y.toString();
    }

    private static void section(StringBuilder y, String field, String peersField, String entitiesField, List<Rule> rules) {
        if (rules.isEmpty()) {
            y.append("  # No ").append(field).append(" was seen: none is allowed.\n");
            y.append("  ").append(field).append(": []\n");
            return;
        }
        y.append("  ").append(field).append(":\n");
        for (Rule rule : rules) {
            if (rule.reason() != null) {
                y.append("    # ").append(comment(rule.peerDisplay())).append(": ").append(comment(rule.reason())).append('\n');
            }
            for (Evidence e : rule.evidence()) {
                y.append("    # ").append(comment(rule.peerDisplay())).append(": ").append(comment(e.port().display()))
                        .append(", ").append(e.flows()).append(e.flows() == 1 ? " flow" : " flows").append(", first ")
                        .append(time(e.first())).append(", last ").append(time(e.last())).append('\n');
            }
            String lead = "    - ";
            List<Peer> entities = rule.peers().stream().filter(p -> p instanceof Peer.Entity).toList();
            List<Peer> fqdns = rule.peers().stream().filter(p -> p instanceof Peer.Fqdn).toList();
            List<Peer> others = rule.peers().stream().filter(p -> !(p instanceof Peer.Entity) && !(p instanceof Peer.Fqdn)).toList();
            if (!others.isEmpty()) {
                y.append(lead).append(peersField).append(":\n");
                lead = "      ";
                for (Peer peer : others) {
                    peer(y, peer);
                }
            }
            if (!entities.isEmpty()) {
                y.append(lead).append(entitiesField).append(": [");
                for (int i = 0; i < entities.size(); i++) {
                    y.append(i == 0 ? "" : ", ").append(quote(((Peer.Entity) entities.get(i)).name()));
                }
                y.append("]\n");
                lead = "      ";
            }
            if (!fqdns.isEmpty()) {
                y.append(lead).append("toFQDNs:\n");
                lead = "      ";
                for (Peer fqdn : fqdns) {
                    for (String name : ((Peer.Fqdn) fqdn).names()) {
                        y.append("        - matchName: ").append(quote(name)).append('\n');
                    }
                }
            }
            y.append(lead).append("ports:\n");
            for (Port port : rule.ports()) {
                if (port.name() == null && port.number() == 0) {
                    y.append("        - {protocol: ").append(port.protocol()).append("}\n");
                    continue;
                }
                y.append("        - {protocol: ").append(port.protocol()).append(", port: ")
                        .append(port.name() != null ? quote(port.name()) : Integer.toString(port.number())).append("}\n");
            }
        }
    }

    private static void peer(StringBuilder y, Peer peer) {
        if (peer instanceof Peer.Pods pods) {
            String lead = "        - ";
            if (pods.namespace() != null) {
                y.append(lead).append("namespaceSelector:\n            matchLabels:\n");
                labels(y, Map.of(PolicySuggester.NAMESPACE_LABEL, pods.namespace()), "              ");
                lead = "          ";
            }
            y.append(lead).append("podSelector:\n            matchLabels:\n");
            labels(y, pods.labels(), "              ");
        } else if (peer instanceof Peer.Namespace ns) {
            if (ns.namespace() == null) {
                y.append("        - namespaceSelector: {}\n");
            } else {
                y.append("        - namespaceSelector:\n            matchLabels:\n");
                labels(y, Map.of(PolicySuggester.NAMESPACE_LABEL, ns.namespace()), "              ");
            }
        } else if (peer instanceof Peer.Resolver) {
            y.append("        - namespaceSelector:\n            matchLabels:\n");
            labels(y, Map.of(PolicySuggester.NAMESPACE_LABEL, ClusterDns.NAMESPACE), "              ");
            y.append("          podSelector:\n            matchLabels:\n");
            labels(y, Map.of(ClusterDns.LABEL, ClusterDns.VALUE), "              ");
        } else if (peer instanceof Peer.Block block) {
            y.append("        - ipBlock: {cidr: ").append(quote(block.cidr())).append("}\n");
        } else {
            throw new IllegalArgumentException("entities and names are written apart: " + peer);
        }
    }

    private static void labels(StringBuilder y, Map<String, String> labels, String indent) {
        new java.util.TreeMap<>(labels).forEach((k, v) -> y.append(indent).append(quote(k)).append(": ").append(quote(v)).append('\n'));
    }

    /** A YAML double-quoted scalar: backslash, quote and every control or non-ASCII character escaped. */
    static String quote(String text) {
        StringBuilder q = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                q.append('\\').append(c);
            } else if (c < 0x20 || c >= 0x7f) {
                q.append(String.format("\\u%04x", (int) c));
            } else {
                q.append(c);
            }
        }
        return q.append('"').toString();
    }

    /** One printable line of a comment. */
    static String comment(String text) {
        StringBuilder c = new StringBuilder(Math.min(text.length(), 200));
        for (int i = 0; i < text.length() && c.length() < 200; i++) {
            char ch = text.charAt(i);
            // Only printable ASCII: U+2028 and its kin end a line for some YAML readers.
            c.append(ch < 0x20 || ch >= 0x7f ? '?' : ch);
        }
        return c.toString();
    }

    private static String time(long millis) {
        return Instant.ofEpochMilli(millis).truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
