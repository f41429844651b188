package dev.weir.policy.service;

import dev.weir.api.policy.PreviewResult;
import dev.weir.api.policy.SuggestResult;
import dev.weir.api.policy.SuggestedPolicy;
import dev.weir.api.policy.SuggestedRule;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.service.suggest.ObservedTraffic;
import dev.weir.policy.service.suggest.PolicySuggester;
import dev.weir.policy.service.suggest.SuggestionYaml;
import dev.weir.proto.flow.v1.Flow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Suggests policies from the recorded flows of a time range: one read of the flows feeds both
 * the observed traffic and the impact preview, so the preview judges the suggestion on exactly
 * the flows it was made from. The suggested document is parsed back as any applied policy is,
 * so what is suggested is what applies.
 */
final class PolicySuggestions {

    /** Flows one suggestion reads at most, and for how long. */
    static final long MAX_FLOWS = 2_000_000;
    static final Duration MAX_READ = Duration.ofSeconds(60);

    private PolicySuggestions() {
    }

    /** The suggestions from flows already read (tests, benchmarks), judged against the policies in force. */
    static SuggestResult suggest(RecordedFlows.Read read, ObservedTraffic traffic, ImpactPreview.Connections connections,
            Cluster cluster, String namespace, List<Policy> inForce,
            java.util.function.BiFunction<Cluster, List<Policy>, Compilation> compile) {
        PolicySuggester.Result result = new PolicySuggester(cluster).suggest(traffic, namespace);
        List<SuggestedPolicy> policies = new ArrayList<>();
        List<Policy> suggested = new ArrayList<>();
        List<String> notes = new ArrayList<>(result.notes());
        StringBuilder document = new StringBuilder();
        for (PolicySuggester.Suggestion s : result.suggestions()) {
            String yaml = SuggestionYaml.render(s, read.since(), read.until(), flows(s));
            // Each is parsed back as an apply would parse it, alone: one that would not apply is
            // left out with the reason, never the reason the others are not suggested.
            try {
                suggested.addAll(PolicyParser.parse(yaml));
            } catch (PolicyParser.InvalidPolicy e) {
                notes.add(s.workload() + ": its suggestion would not apply (" + e.getMessage() + "); left out");
                continue;
            }
            document.append(document.length() == 0 ? "" : "---\n").append(yaml);
            List<SuggestedRule> rules = new ArrayList<>();
            rules(rules, "spec.ingress", s.ingress());
            rules(rules, "spec.egress", s.egress());
            policies.add(new SuggestedPolicy(s.weirOnly() ? Policy.WEIR_POLICY : Policy.NETWORK_POLICY, s.namespace(), s.name(),
                    s.workload(), yaml, rules));
        }
        if (read.truncated()) {
            notes.add("the read stopped at its bound (" + read.flows() + " flows, or " + MAX_READ.toSeconds() + " s) before "
                    + "the end of the range: traffic of the rest of it is not in these suggestions");
        }
        if (traffic.beyondBounds() > 0) {
            notes.add(traffic.beyondBounds() + " flows of parties or connections beyond the suggestion's bounds were left out");
        }
        if (read.undecodable() > 0) {
            notes.add(read.undecodable() + " records of the flows topic were no flow and were skipped");
        }
        PreviewResult preview = null;
        if (!suggested.isEmpty()) {
            Set<String> replaced = new HashSet<>();
            suggested.forEach(p -> replaced.add(p.key()));
            List<Policy> combined = new ArrayList<>(inForce.stream().filter(p -> !replaced.contains(p.key())).toList());
            combined.addAll(suggested);
            preview = ImpactPreview.judge(read, connections, compile.apply(cluster, inForce), compile.apply(cluster, combined));
        }
        return new SuggestResult(read.since(), read.until(), read.flows(), read.truncated(), policies, document.toString(),
                preview, notes);
    }

    static SuggestResult suggest(dev.weir.common.kafka.KafkaConnection kafka, Instant since, Instant until, Cluster cluster,
            String namespace, List<Policy> inForce, java.util.function.BiFunction<Cluster, List<Policy>, Compilation> compile) {
        ObservedTraffic traffic = new ObservedTraffic();
        ImpactPreview.Connections connections = new ImpactPreview.Connections(cluster);
        Consumer<Flow> both = flow -> {
            traffic.accept(flow);
            connections.accept(flow);
        };
        RecordedFlows.Read read = RecordedFlows.read(kafka, since, until, MAX_FLOWS, MAX_READ, both);
        return suggest(read, traffic, connections, cluster, namespace, inForce, compile);
    }

    private static long flows(PolicySuggester.Suggestion s) {
        return s.ingress().stream().mapToLong(PolicySuggester.Rule::flows).sum()
                + s.egress().stream().mapToLong(PolicySuggester.Rule::flows).sum();
    }

    private static void rules(List<SuggestedRule> out, String field, List<PolicySuggester.Rule> rules) {
        for (int i = 0; i < rules.size(); i++) {
            PolicySuggester.Rule rule = rules.get(i);
            long first = rule.evidence().stream().mapToLong(PolicySuggester.Evidence::first).min().orElse(0);
            long last = rule.evidence().stream().mapToLong(PolicySuggester.Evidence::last).max().orElse(0);
            out.add(new SuggestedRule(field + "[" + i + "]", rule.peerDisplay(),
                    rule.ports().stream().map(PolicySuggester.Port::display).toList(),
                    rule.flows(), rule.evidence().isEmpty() ? null : Instant.ofEpochMilli(first),
                    rule.evidence().isEmpty() ? null : Instant.ofEpochMilli(last)));
        }
    }
}
