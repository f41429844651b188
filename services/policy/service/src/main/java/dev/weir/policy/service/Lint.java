package dev.weir.policy.service;

import dev.weir.api.policy.LintWarning;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.EndpointPolicy;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.MapKey;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.Verdicts;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Warnings about policies that are valid but probably not what their author meant, each with the
 * field it concerns. The seed talk's commonest mistake comes first: a default-deny egress that
 * forgets DNS.
 */
public final class Lint {

    private Lint() {
    }

    /** Lints the policies alone, as if no other policy were in force. */
    public static List<LintWarning> lint(List<Policy> policies, Cluster cluster) {
        return lint(policies, List.of(), cluster, Map.of());
    }

    /**
     * Lints the proposed policies as they would stand among those in force (a proposed policy
     * replaces the one of the same key): a deny of another policy can shadow a proposed allow,
     * and another policy can allow the DNS this one does not.
     */
    public static List<LintWarning> lint(List<Policy> policies, List<Policy> inForce, Cluster cluster,
            Map<String, Set<String>> dnsAnswers) {
        Set<String> proposed = new HashSet<>();
        policies.forEach(p -> proposed.add(p.key()));
        List<Policy> combined = new ArrayList<>();
        inForce.stream().filter(p -> !proposed.contains(p.key())).forEach(combined::add);
        combined.addAll(policies);
        // One allocator for every compile of a lint, so the same labels get the same identity in each.
        Identity.Allocator allocator = new Identity.LocalAllocator();
        Compilation all = PolicyCompiler.compile(cluster, combined, allocator, Map.of(), dnsAnswers);
        List<LintWarning> warnings = new ArrayList<>();
        warnings.addAll(basic(policies, cluster));
        warnings.addAll(ClusterDnsLint.lint(policies, cluster, all));
        warnings.addAll(shadowed(policies, combined, cluster, all, allocator, dnsAnswers));
        warnings.addAll(capacity(policies, all));
        return warnings;
    }

    /** The size of an agent's policy map per endpoint, unless WEIR_POLICY_MAP_ENTRIES says otherwise. */
    static final int POLICY_MAP_ENTRIES = 16_384;

    /**
     * Endpoints whose compiled entries would not fit in an agent's policy map: their agents refuse
     * the revision whole and keep the one in force, so say so before the apply.
     */
    private static List<LintWarning> capacity(List<Policy> policies, Compilation all) {
        List<LintWarning> warnings = new ArrayList<>();
        for (Map.Entry<String, EndpointPolicy> endpoint : all.endpoints().entrySet()) {
            long entries = endpoint.getValue().entries().keySet().stream().mapToLong(MapKey::datapathEntries).sum();
            if (entries <= POLICY_MAP_ENTRIES) {
                continue;
            }
            for (Policy policy : policies) {
                if (endpoint.getValue().policies().contains(policy.key())) {
                    warnings.add(new LintWarning(policy.key(), "spec", "endpoint " + endpoint.getKey() + " would need "
                            + entries + " policy map entries, more than an agent's map holds (" + POLICY_MAP_ENTRIES
                            + " by default): its agent will refuse the revision and keep the one in force"));
                }
            }
        }
        return warnings;
    }

    private static List<LintWarning> basic(List<Policy> policies, Cluster cluster) {
        List<LintWarning> warnings = new ArrayList<>();
        for (Policy policy : policies) {
            String key = policy.key();
            List<Cluster.Pod> selected = cluster.pods().stream().filter(policy::selects).toList();
            if (selected.isEmpty()) {
                warnings.add(new LintWarning(key, "spec.podSelector", "selects no pod"
                        + (policy.clusterWide() ? "" : " in namespace " + policy.namespace())));
            }
            for (int r = 0; r < policy.ingress().size(); r++) {
                List<Policy.Port> ports = policy.ingress().get(r).ports();
                for (int p = 0; p < ports.size(); p++) {
                    Policy.Port port = ports.get(p);
                    if (port.name() != null && !selected.isEmpty() && selected.stream().noneMatch(pod -> pod.ports().stream()
                            .anyMatch(c -> c.name().equals(port.name()) && c.protocol() == port.protocol()))) {
                        warnings.add(new LintWarning(key, "spec.ingress[" + r + "].ports[" + p + "].port", "no selected pod "
                                + "exposes a " + port.protocol() + " port named '" + port.name() + "'"));
                    }
                }
            }
        }
        return warnings;
    }

    /**
     * Allow rules that can never allow anything: every map entry the rule produces, on every pod
     * it selects, is decided by a deny (of this policy or another in force), exactly as the
     * datapath's lookup order decides. A rule that produces no entry (no peer exists yet) is not
     * called shadowed: it may allow something once its peers appear.
     */
    private static List<LintWarning> shadowed(List<Policy> policies, List<Policy> combined, Cluster cluster,
            Compilation all, Identity.Allocator allocator, Map<String, Set<String>> dnsAnswers) {
        if (combined.stream().allMatch(p -> p.ingressDeny().isEmpty() && p.egressDeny().isEmpty())) {
            return List.of();
        }
        List<LintWarning> warnings = new ArrayList<>();
        for (Policy policy : policies) {
            warnings.addAll(shadowed(policy, "ingress", policy.ingress(), cluster, all, allocator, dnsAnswers));
            warnings.addAll(shadowed(policy, "egress", policy.egress(), cluster, all, allocator, dnsAnswers));
        }
        return warnings;
    }

    private static List<LintWarning> shadowed(Policy policy, String field, List<Policy.Rule> rules, Cluster cluster,
            Compilation all, Identity.Allocator allocator, Map<String, Set<String>> dnsAnswers) {
        List<LintWarning> warnings = new ArrayList<>();
        boolean ingress = field.equals("ingress");
        for (int r = 0; r < rules.size(); r++) {
            Policy alone = new Policy(policy.kind(), policy.namespace(), policy.name(), policy.podSelector(),
                    ingress, !ingress, ingress ? List.of(rules.get(r)) : List.of(), ingress ? List.of() : List.of(rules.get(r)),
                    List.of(), List.of());
            Compilation rule = PolicyCompiler.compile(cluster, List.of(alone), allocator, Map.of(), dnsAnswers);
            int entries = 0;
            Set<String> deniers = new java.util.TreeSet<>();
            boolean everyEntryDenied = true;
            for (Map.Entry<String, EndpointPolicy> endpoint : rule.endpoints().entrySet()) {
                for (MapKey key : endpoint.getValue().entries().keySet()) {
                    entries++;
                    Verdicts.Decision decision = Verdicts.decide(all.endpoint(endpoint.getKey()), key.identity(), key.port(),
                            key.protocol(), key.direction());
                    if (decision.denyEntry()) {
                        all.policyOf(decision.entry().cookie()).ifPresent(deniers::add);
                    } else {
                        everyEntryDenied = false;
                    }
                }
            }
            if (entries > 0 && everyEntryDenied) {
                warnings.add(new LintWarning(policy.key(), "spec." + field + "[" + r + "]", "is shadowed: everything it allows "
                        + "is denied by " + String.join(", ", deniers) + " (a deny wins over any allow)"));
            }
        }
        return warnings;
    }
}
