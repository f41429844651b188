package dev.weir.policy.service;

import dev.weir.api.policy.AppliedPolicy;
import dev.weir.api.policy.ApplyResponse;
import dev.weir.api.policy.LintWarning;
import dev.weir.api.policy.PreviewResult;
import dev.weir.api.policy.PromoteResponse;
import dev.weir.api.policy.StagedDrop;
import dev.weir.api.policy.StagedStatus;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.service.staged.StagedPolicyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The life of a policy before and after it is enforced: staged (judged against live flows by the
 * staged evaluator, never enforced), promoted (its staged document applied as the enforced
 * revision, in the transaction that unstages it), and restored (an earlier revision applied
 * again as a new one).
 */
@Service
public class StagedPolicies {

    /** Policies staged at once at most: each is compiled on every change and judges every connection. */
    static final int MAX_STAGED = 32;
    static final int EXAMPLES = 20;

    private final StagedPolicyStore staged;
    private final PolicyStore store;
    private final Reconciler reconciler;
    private final DesiredStateTopics topics;
    private final org.springframework.transaction.support.TransactionTemplate transaction;

    private final dev.weir.policy.service.staged.StagedEvaluator evaluator;

    public StagedPolicies(StagedPolicyStore staged, PolicyStore store, Reconciler reconciler, DesiredStateTopics topics,
            org.springframework.transaction.PlatformTransactionManager transactions,
            dev.weir.policy.service.staged.StagedEvaluator evaluator) {
        this.evaluator = evaluator;
        this.staged = staged;
        this.store = store;
        this.reconciler = reconciler;
        this.topics = topics;
        this.transaction = new org.springframework.transaction.support.TransactionTemplate(transactions);
    }

    /** Stages every policy of the body, or none (400 beyond the bound). */
    @Transactional
    public List<AppliedPolicy> stage(List<PolicyParser.Parsed> parsed, String author) {
        staged.lock();
        Set<String> keys = new HashSet<>();
        staged.all().forEach(s -> keys.add(s.key()));
        parsed.forEach(p -> keys.add(p.policy().key()));
        if (keys.size() > MAX_STAGED) {
            throw new PolicyParser.InvalidPolicy("(document)", "would make " + keys.size() + " staged policies, more than "
                    + MAX_STAGED + ": promote or unstage some first");
        }
        staged.stage(parsed, author);
        return parsed.stream().map(p -> new AppliedPolicy(p.policy().kind(), p.policy().namespace(), p.policy().name(), 0, true))
                .toList();
    }

    public List<StagedStatus> list() {
        return staged.all().stream().map(s -> status(s, 3)).toList();
    }

    public Optional<StagedStatus> status(String kind, String namespace, String name) {
        return staged.find(kind, namespace, name).map(s -> status(s, EXAMPLES));
    }

    public boolean unstage(String kind, String namespace, String name) {
        return staged.remove(kind, namespace, name);
    }

    private StagedStatus status(StagedPolicyStore.Staged s, int examples) {
        List<StagedDrop> drops = staged.drops(s.id(), examples).stream()
                .map(d -> new StagedDrop(d.source(), d.destination(), d.port(), d.protocol(), d.flows(), d.firstSeen(), d.lastSeen()))
                .toList();
        return new StagedStatus(s.id(), s.kind(), s.namespace(), s.name(), s.stagedAt(), s.author(), s.judged(), s.wouldDrop(),
                drops, evaluator.failures().getOrDefault(s.id(), ""));
    }

    /**
     * Promotes the staged policy: the impact preview of enforcing it over the last minutes of
     * flows and what it judged while staged; unless dryRun, its document applied as the enforced
     * revision and the staging removed, together (the preview is read outside that transaction,
     * and a staging replaced meanwhile is refused rather than promoted unseen).
     */
    public Optional<PromoteResponse> promote(String kind, String namespace, String name, boolean dryRun, int minutes,
            Long stagedId, String author) {
        Optional<StagedPolicyStore.Staged> candidate = staged.find(kind, namespace, name);
        if (candidate.isEmpty()) {
            return Optional.empty();
        }
        StagedPolicyStore.Staged s = candidate.get();
        if (stagedId != null && stagedId != s.id()) {
            throw new PolicyApiProblems.Conflict("the staged " + s.key() + " was replaced since staging " + stagedId
                    + " was looked at: look at it again");
        }
        List<PolicyParser.Parsed> parsed = PolicyParser.parseWithSource(s.document());
        List<Policy> policies = parsed.stream().map(PolicyParser.Parsed::policy).toList();
        Cluster cluster = topics.cluster();
        List<Policy> inForce = reconciler.lastPolicies();
        List<Policy> combined = new ArrayList<>(inForce.stream().filter(p -> !p.key().equals(s.key())).toList());
        combined.addAll(policies);
        PreviewResult preview = ImpactPreview.preview(topics.kafka(), Duration.ofMinutes(minutes), cluster,
                reconciler.compileWhatIf(cluster, inForce), reconciler.compileWhatIf(cluster, combined));
        List<LintWarning> warnings = Lint.lint(policies, inForce, cluster, topics.dnsAnswers());
        StagedStatus judged = status(s, EXAMPLES);
        if (dryRun) {
            return Optional.of(new PromoteResponse(true, preview, judged, List.of(), warnings));
        }
        List<AppliedPolicy> applied = transaction.execute(status -> {
            // Only this staging goes, and only once: a newer one of the same key, or a second promote, is a conflict.
            if (!staged.removeStaging(s.id())) {
                throw new PolicyApiProblems.Conflict("the staged " + s.key() + " was replaced or removed during the promotion: "
                        + "look at it again");
            }
            return store.apply(parsed, "api", author);
        });
        reconciler.request();
        return Optional.of(new PromoteResponse(false, preview, judged, applied, warnings));
    }

    /**
     * Applies an earlier revision of a policy again, as a new revision: the given one, or the
     * latest before the current that holds a document. Empty when the policy or the revision
     * does not exist (or that revision is the one that deleted it).
     */
    public Optional<ApplyResponse> restore(String kind, String namespace, String name, Long revision, String author) {
        Optional<PolicyStore.History> history = store.history(kind, namespace, name);
        if (history.isEmpty()) {
            return Optional.empty();
        }
        long target;
        if (revision != null) {
            if (revision < 1 || revision >= history.get().revision()) {
                throw new PolicyParser.InvalidPolicy("revision", revision + " is not an earlier revision (the current is "
                        + history.get().revision() + ")");
            }
            target = revision;
        } else {
            Optional<Long> previous = store.previousDocumentRevision(history.get().id(), history.get().revision());
            if (previous.isEmpty()) {
                throw new PolicyParser.InvalidPolicy("revision", "the policy has no earlier revision to restore");
            }
            target = previous.get();
        }
        Optional<String> document = store.document(history.get().id(), target);
        if (document.isEmpty()) {
            throw new PolicyParser.InvalidPolicy("revision", "revision " + target + " deleted the policy: there is nothing "
                    + "to restore from it");
        }
        List<PolicyParser.Parsed> parsed = PolicyParser.parseWithSource(document.get());
        List<Policy> policies = parsed.stream().map(PolicyParser.Parsed::policy).toList();
        List<LintWarning> warnings = Lint.lint(policies, reconciler.lastPolicies(), topics.cluster(), topics.dnsAnswers());
        List<AppliedPolicy> applied = store.apply(parsed, "api", author);
        reconciler.request();
        return Optional.of(new ApplyResponse(false, applied, warnings));
    }
}
