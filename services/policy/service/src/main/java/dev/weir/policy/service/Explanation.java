package dev.weir.policy.service;

import dev.weir.api.policy.ExplainPolicy;
import dev.weir.api.policy.ExplainRequest;
import dev.weir.api.policy.ExplainResponse;
import dev.weir.api.policy.ExplainSide;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.MapKey.Direction;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser.InvalidPolicy;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Explains the verdict on a new connection as {@code cilium policy trace} did: the verdict of the
 * compiled policies in force (what the datapath enforces), and at each end every policy that
 * selects the pod in that direction, with the rules of it that match the connection or the fact
 * that none does. Which rules match is found by compiling each rule alone, on the same cluster.
 */
final class Explanation {

    private final Cluster cluster;
    private final List<Policy> policies;
    private final Compilation enforced;
    private final Map<String, Set<String>> dnsAnswers;
    /** One allocator for the rules' compiles, so that equal labels get equal identities in each. */
    private final Identity.Allocator allocator = new Identity.LocalAllocator();

    Explanation(Cluster cluster, List<Policy> policies, Compilation enforced, Map<String, Set<String>> dnsAnswers) {
        this.cluster = cluster;
        this.policies = policies;
        this.enforced = enforced;
        this.dnsAnswers = dnsAnswers;
    }

    ExplainResponse explain(ExplainRequest request) {
        Cluster.Pod source = pod(request.source(), "source");
        Cluster.Pod destination = pod(request.destination(), "destination");
        Protocol protocol;
        try {
            protocol = Protocol.valueOf(request.protocol() == null ? "TCP" : request.protocol().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidPolicy("protocol", "'" + bounded(request.protocol()) + "' is not TCP, UDP or SCTP");
        }
        int port = port(request.port(), destination, protocol);
        String sourceIp = source == null ? request.source() : source.ip();
        String destinationIp = destination == null ? request.destination() : destination.ip();
        Verdicts.PathDecision decision = Verdicts.decide(enforced, cluster, source, sourceIp, destination, destinationIp, port,
                protocol);
        return new ExplainResponse(decision.allowed() ? "FORWARDED" : "DROPPED", port,
                side(source, decision.egress(), Direction.EGRESS, destinationIp, port, protocol),
                side(destination, decision.ingress(), Direction.INGRESS, sourceIp, port, protocol));
    }

    private ExplainSide side(Cluster.Pod pod, Verdicts.Decision decision, Direction direction, String remoteIp, int port,
            Protocol protocol) {
        String decidedBy = decision.entry() == null ? "" : enforced.policyOf(decision.entry().cookie()).orElse("");
        if (pod == null) {
            return new ExplainSide("", false, decision.allowed(), decision.match().name(), decidedBy, decision.denyEntry(),
                    List.of());
        }
        boolean egress = direction == Direction.EGRESS;
        boolean isolated = egress ? enforced.endpoint(pod.key()).egressIsolated() : enforced.endpoint(pod.key()).ingressIsolated();
        List<ExplainPolicy> selecting = new ArrayList<>();
        for (Policy policy : policies) {
            List<Policy.Rule> allows = egress ? policy.egress() : policy.ingress();
            List<Policy.Rule> denies = egress ? policy.egressDeny() : policy.ingressDeny();
            boolean applies = (egress ? policy.isolatesEgress() : policy.isolatesIngress()) || !denies.isEmpty();
            if (!applies || !policy.selects(pod)) {
                continue;
            }
            List<String> matched = new ArrayList<>();
            String field = egress ? "spec.egress" : "spec.ingress";
            for (int r = 0; r < allows.size(); r++) {
                if (matches(policy, allows.get(r), false, pod, direction, remoteIp, port, protocol)) {
                    matched.add(field + "[" + r + "]");
                }
            }
            for (int r = 0; r < denies.size(); r++) {
                if (matches(policy, denies.get(r), true, pod, direction, remoteIp, port, protocol)) {
                    matched.add(field + "Deny[" + r + "]");
                }
            }
            selecting.add(new ExplainPolicy(policy.key(), allows.size() + denies.size(), matched));
        }
        return new ExplainSide(pod.key(), isolated, decision.allowed(), decision.match().name(), decidedBy,
                decision.denyEntry(), selecting);
    }

    /** Whether the rule alone, compiled for the pod, has an entry the connection's lookup finds. */
    private boolean matches(Policy policy, Policy.Rule rule, boolean deny, Cluster.Pod pod, Direction direction,
            String remoteIp, int port, Protocol protocol) {
        boolean ingress = direction == Direction.INGRESS;
        List<Policy.Rule> one = List.of(rule);
        Policy alone = new Policy(policy.kind(), policy.namespace(), policy.name(), policy.podSelector(), ingress, !ingress,
                ingress && !deny ? one : List.of(), !ingress && !deny ? one : List.of(),
                ingress && deny ? one : List.of(), !ingress && deny ? one : List.of());
        Compilation compiled = PolicyCompiler.compile(cluster, List.of(alone), allocator, Map.of(), dnsAnswers);
        Verdicts.Decision decision = Verdicts.decide(compiled.endpoint(pod.key()),
                Verdicts.remoteIdentity(compiled, cluster, pod, remoteIp), port, protocol.number(), direction);
        return decision.entry() != null;
    }

    /** A port by number, or by the name the destination pod gives one of its ports of that protocol. */
    private static int port(String text, Cluster.Pod destination, Protocol protocol) {
        if (text == null || text.isBlank()) {
            throw new InvalidPolicy("port", "is required: a number or a named port of the destination pod");
        }
        if (text.matches("[0-9]{1,5}")) {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw new InvalidPolicy("port", port + " is out of range 1-65535");
            }
            return port;
        }
        if (text.length() > 15 || !text.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
            throw new InvalidPolicy("port", "'" + bounded(text) + "' is neither a port number nor a port name (IANA_SVC_NAME)");
        }
        if (destination == null) {
            throw new InvalidPolicy("port", "'" + text + "' is a port name, and only a pod names its ports: the destination "
                    + "is an address");
        }
        for (Cluster.ContainerPort declared : destination.ports()) {
            if (declared.name().equals(text) && declared.protocol() == protocol) {
                return declared.port();
            }
        }
        throw new InvalidPolicy("port", destination.key() + " declares no " + protocol + " port named '" + text + "'");
    }

    private Cluster.Pod pod(String name, String field) {
        if (name == null || name.isBlank()) {
            throw new InvalidPolicy(field, "is required: namespace/pod or an IP address");
        }
        for (Cluster.Pod pod : cluster.pods()) {
            if (pod.key().equals(name) || pod.ip().equals(name)) {
                return pod;
            }
        }
        if (name.contains("/")) {
            throw new InvalidPolicy(field, "no pod " + bounded(name) + " is known");
        }
        // Not a pod: it must be an address literal (never a name to look up).
        if (name.length() > 45 || !name.matches("[0-9a-fA-F:.]+") || !validAddress(name)) {
            throw new InvalidPolicy(field, "'" + bounded(name) + "' is neither namespace/pod nor an IP address");
        }
        return null;
    }

    private static String bounded(String text) {
        return text == null ? "" : text.length() > 45 ? text.substring(0, 45) + "…" : text;
    }

    private static boolean validAddress(String literal) {
        if (literal.contains(":")) {
            try {
                return java.net.InetAddress.getByName(literal) instanceof java.net.Inet6Address;
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        String[] parts = literal.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }
}
