package dev.weir.policy.service;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import dev.weir.api.policy.AppliedPolicy;
import dev.weir.api.policy.ApplyResponse;
import dev.weir.api.policy.EndpointStatus;
import dev.weir.api.policy.ExplainRequest;
import dev.weir.api.policy.ExplainResponse;
import dev.weir.api.policy.LintWarning;
import dev.weir.api.policy.PolicyDeleted;
import dev.weir.api.policy.PolicyDetail;
import dev.weir.api.policy.PolicyRevision;
import dev.weir.api.policy.PolicyStatus;
import dev.weir.api.policy.PolicySummary;
import dev.weir.api.policy.PreviewResult;
import dev.weir.api.policy.SuggestResult;
import dev.weir.policy.model.Cluster;
import dev.weir.schemas.TopicId;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.proto.state.v1.PolicyRevisionRef;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The policy REST API (/api/v1): apply (YAML or JSON, one or many policies, dry-run), list, get
 * with revisions, delete, propagation status per policy revision, and explain. A cluster-wide
 * Weir policy has the namespace "-" in paths.
 */
@RestController
@RequestMapping("/api/v1")
public class PolicyController {

    private final PolicyStore store;
    private final Reconciler reconciler;
    private final DesiredStateTopics topics;
    private final StagedPolicies staged;
    private final PropagationWatch watch;

    public PolicyController(PolicyStore store, Reconciler reconciler, DesiredStateTopics topics, StagedPolicies staged,
            PropagationWatch watch) {
        this.watch = watch;
        this.store = store;
        this.reconciler = reconciler;
        this.topics = topics;
        this.staged = staged;
    }

    /**
     * Applies every policy of the body, or none of them (400 naming the field at fault); staged,
     * they are judged against live flows instead of enforced.
     */
    @Operation(summary = "Apply policies (Kubernetes NetworkPolicy or WeirNetworkPolicy, YAML or JSON): all of the body or none")
    @PostMapping(path = "/policies", consumes = {"application/yaml", "application/x-yaml", "application/json", "text/plain"})
    public ApplyResponse apply(@RequestBody String body, @Parameter(description = "true: validate and lint only, apply nothing.") @RequestParam(defaultValue = "false") boolean dryRun,
            @Parameter(description = "true: stage the policies (judged against live flows, never enforced) instead of applying them.") @RequestParam(defaultValue = "false") boolean staged,
            java.security.Principal author) {
        List<PolicyParser.Parsed> parsed = PolicyParser.parseWithSource(body);
        if (parsed.isEmpty()) {
            throw new PolicyParser.InvalidPolicy("(document)", "holds no policy");
        }
        List<Policy> policies = parsed.stream().map(PolicyParser.Parsed::policy).toList();
        if (!dryRun && !staged) {
            // Lint advises and never refuses: it runs once the change is stored and its compile asked
            // for, judged against the policies in force before it, so the change does not wait for it.
            List<Policy> inForce = reconciler.lastPolicies();
            Cluster cluster = cluster();
            List<AppliedPolicy> applied = store.apply(parsed, "api", author.getName());
            reconciler.request();
            List<LintWarning> warnings;
            try {
                warnings = Lint.lint(policies, inForce, cluster, topics.dnsAnswers());
            } catch (RuntimeException e) {
                // The change is stored and compiling: an answer that it failed would be wrong.
                warnings = List.of(new LintWarning(policies.get(0).key(), "", "lint could not run: " + e.getMessage()));
            }
            return new ApplyResponse(false, applied, warnings);
        }
        List<LintWarning> warnings = Lint.lint(policies, reconciler.lastPolicies(), cluster(), topics.dnsAnswers());
        if (dryRun) {
            List<AppliedPolicy> wouldApply = policies.stream()
                    .map(p -> new AppliedPolicy(p.kind(), p.namespace(), p.name(), 0, true)).toList();
            return new ApplyResponse(true, wouldApply, warnings, staged);
        }
        return new ApplyResponse(false, this.staged.stage(parsed, author.getName()), warnings, true);
    }

    /**
     * Impact preview: the recorded connections of the last minutes whose verdict the proposed
     * policies (applied on top of those in force) would change, most frequent first.
     */
    @Operation(summary = "Impact preview: the recorded connections whose verdict the proposed policies would change")
    @PostMapping(path = "/policies/preview", consumes = {"application/yaml", "application/x-yaml", "application/json",
            "text/plain"})
    public PreviewResult preview(@RequestBody String body, @Parameter(description = "How many minutes of recorded flows to judge again (1-1440).") @RequestParam(defaultValue = "10") int minutes) {
        if (minutes < 1 || minutes > 1440) {
            throw new PolicyParser.InvalidPolicy("minutes", minutes + " is out of range 1-1440");
        }
        Compilation current = reconciler.last();
        if (current == null) {
            throw new IllegalStateException("policies are not compiled yet");
        }
        // Two compilations and minutes of flows each: a read token may ask, but not for many at once.
        if (!previews.tryAcquire()) {
            throw new IllegalStateException(MAX_PREVIEWS + " impact previews are running; try again shortly");
        }
        try {
            return previewNow(body, minutes);
        } finally {
            previews.release();
        }
    }

    static final int MAX_PREVIEWS = 2;
    private final java.util.concurrent.Semaphore previews = new java.util.concurrent.Semaphore(MAX_PREVIEWS);

    private PreviewResult previewNow(String body, int minutes) {
        List<Policy> proposed = PolicyParser.parse(body);
        java.util.Set<String> replaced = new java.util.HashSet<>();
        proposed.forEach(p -> replaced.add(p.key()));
        List<Policy> combined = new ArrayList<>(reconciler.lastPolicies().stream()
                .filter(p -> !replaced.contains(p.key())).toList());
        combined.addAll(proposed);
        Cluster cluster = cluster();
        Compilation now = reconciler.compileWhatIf(cluster, reconciler.lastPolicies());
        Compilation then = reconciler.compileWhatIf(cluster, combined);
        return ImpactPreview.preview(topics.kafka(), Duration.ofMinutes(minutes), cluster, now, then);
    }

    /**
     * Least-privilege policies per workload from the recorded flows of a time range, with the
     * impact preview of adding them over the same flows.
     */
    @Operation(summary = "Suggest least-privilege policies per workload from the recorded flows of a time range")
    @GetMapping("/policies/suggestions")
    public SuggestResult suggest(@Parameter(description = "Start of the range: a duration back from now (10m, 1h) or an instant.") @RequestParam(defaultValue = "1h") String since,
            @Parameter(description = "End of the range: a duration back from now or an instant; now when absent.") @RequestParam(required = false) String until,
            @Parameter(description = "Suggest for the workloads of this namespace only.") @RequestParam(required = false) String namespace) {
        Instant now = Instant.now();
        Instant from = pointInTime("since", since, now);
        Instant to = until == null ? now.plusSeconds(1) : pointInTime("until", until, now);
        if (!from.isBefore(to)) {
            throw new PolicyParser.InvalidPolicy("since", "must be before until");
        }
        if (Duration.between(from, to).compareTo(MAX_SUGGEST_RANGE) > 0) {
            throw new PolicyParser.InvalidPolicy("since", "the range is longer than " + MAX_SUGGEST_RANGE.toDays() + " days");
        }
        if (namespace != null && !namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
            throw new PolicyParser.InvalidPolicy("namespace", "is not a namespace name");
        }
        if (reconciler.last() == null) {
            throw new IllegalStateException("policies are not compiled yet");
        }
        if (!previews.tryAcquire()) {
            throw new IllegalStateException(MAX_PREVIEWS + " impact previews or suggestions are running; try again shortly");
        }
        try {
            return PolicySuggestions.suggest(topics.kafka(), from, to, cluster(), namespace, reconciler.lastPolicies(),
                    reconciler::compileWhatIf);
        } finally {
            previews.release();
        }
    }

    static final Duration MAX_SUGGEST_RANGE = Duration.ofDays(7);

    private static Instant pointInTime(String field, String value, Instant now) {
        try {
            return dev.weir.common.time.Durations.pointInTime(value, now);
        } catch (IllegalArgumentException e) {
            throw new PolicyParser.InvalidPolicy(field, e.getMessage());
        }
    }

    /**
     * The policies of a body as the parser reads them, each as the JSON document an apply would
     * store (400 naming the field at fault): what an editor shows in its form.
     */
    @Operation(summary = "Parse policies (YAML or JSON) into the documents an apply would store; applies nothing")
    @PostMapping(path = "/policies/parse", consumes = {"application/yaml", "application/x-yaml", "application/json",
            "text/plain"}, produces = "application/json")
    public String parse(@RequestBody String body) {
        List<PolicyParser.Parsed> parsed = PolicyParser.parseWithSource(body);
        return "[" + String.join(",", parsed.stream().map(PolicyParser.Parsed::json).toList()) + "]";
    }

    @Operation(summary = "The policies in force, with their revisions")
    @GetMapping("/policies")
    public List<PolicySummary> list() {
        return store.active().stream()
                .map(p -> new PolicySummary(p.kind(), p.namespace(), p.name(), p.revision(), p.updated())).toList();
    }

    @Operation(summary = "One policy: its document and revision")
    @GetMapping("/policies/{kind}/{namespace}/{name}")
    public ResponseEntity<PolicyDetail> get(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name) {
        return store.find(kind, ns(namespace), name)
                .map(p -> ResponseEntity.ok(new PolicyDetail(p.kind(), p.namespace(), p.name(), p.revision(), p.document(),
                        store.revisions(p.id()))))
                .orElse(ResponseEntity.notFound().build());
    }

    @Operation(summary = "Delete a policy")
    @DeleteMapping("/policies/{kind}/{namespace}/{name}")
    public ResponseEntity<PolicyDeleted> delete(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name, java.security.Principal author) {
        // The author is who the token belongs to, not what a client claims.
        return store.delete(kind, ns(namespace), name, author.getName()).map(revision -> {
            reconciler.request();
            return ResponseEntity.ok(new PolicyDeleted(true, revision));
        }).orElse(ResponseEntity.notFound().build());
    }

    /** Which endpoints and nodes enforce the policy's current revision, and how long the others are behind. */
    @Operation(summary = "Which endpoints and nodes enforce the policy's current revision")
    @GetMapping("/policies/{kind}/{namespace}/{name}/status")
    public ResponseEntity<PolicyStatus> status(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name,
            @Parameter(description = "Seconds to wait (at most 60) until the revision is enforced by every endpoint it "
                    + "applies to, or an agent refused it; the status is answered either way.")
            @RequestParam(defaultValue = "0") int wait,
            @Parameter(description = "With wait: the revision to wait for (default: the current one).")
            @RequestParam(name = "revision", required = false) Long awaited) {
        var stored = store.find(kind, ns(namespace), name);
        if (wait < 0 || wait > PropagationWatch.MAX_WAIT.toSeconds()) {
            throw new PolicyParser.InvalidPolicy("wait", "must be 0.." + PropagationWatch.MAX_WAIT.toSeconds() + " seconds");
        }
        if (awaited != null && awaited < 1) {
            throw new PolicyParser.InvalidPolicy("revision", "must be 1 or more");
        }
        if (awaited != null && stored.isPresent() && awaited > stored.get().revision()) {
            throw new PolicyParser.InvalidPolicy("revision", "is newer than the policy's revision " + stored.get().revision());
        }
        if (wait > 0 && stored.isPresent()) {
            String key = stored.get().key();
            long target = awaited != null ? awaited : stored.get().revision();
            try {
                watch.await(() -> settled(key, kind, ns(namespace), name, target), Duration.ofSeconds(wait));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stored = store.find(kind, ns(namespace), name);
        }
        boolean settled = stored.isPresent() && settled(stored.get().key(), kind, ns(namespace), name,
                awaited != null ? awaited : stored.get().revision());
        var staging = staged.status(kind, ns(namespace), name);
        if (stored.isEmpty() && staging.isEmpty()) {
            return ResponseEntity.notFound().build();
        }
        long revision = stored.map(PolicyStore.StoredPolicy::revision).orElse(0L);
        List<EndpointStatus> details = new ArrayList<>();
        Instant now = Instant.now();
        for (Map.Entry<String, EndpointPolicyState> e : topics.policyStates.entrySet()) {
            EndpointPolicyState state = e.getValue();
            boolean includes = false;
            for (PolicyRevisionRef ref : state.getPoliciesList()) {
                includes |= ref.getKind().equals(kind) && ref.getNamespace().equals(ns(namespace)) && ref.getName().equals(name)
                        && ref.getRevision() == revision;
            }
            if (!includes) {
                continue;
            }
            MapApplyAck ack = topics.acks.get(e.getKey());
            boolean enforced = ack != null && ack.getRevision() >= state.getRevision() && ack.getStatus() == AckStatus.APPLIED;
            Instant compiled = Instant.ofEpochSecond(state.getCompiled().getSeconds(), state.getCompiled().getNanos());
            details.add(new EndpointStatus(state.getNodeName(), state.getEndpointId(),
                    state.getNamespace() + "/" + state.getPodName(), state.getRevision(), enforced,
                    ack == null ? 0 : ack.getRevision(), error(topics.sendErrors(TopicId.ENDPOINT_POLICY_STATE).get(e.getKey()), ack),
                    enforced ? 0 : Duration.between(compiled, now).toMillis()));
        }
        List<String> behind = details.stream().filter(d -> !d.enforced()).map(EndpointStatus::node).distinct().sorted().toList();
        return ResponseEntity.ok(new PolicyStatus(kind, ns(namespace), name, revision, details.size(),
                (int) details.stream().filter(EndpointStatus::enforced).count(), behind, details, staging.orElse(null),
                settled));
    }

    /**
     * Whether the revision has gone as far as it will: compiled and published, and every endpoint
     * state that holds the policy's current revision answered (acked, or refused by Kafka). A
     * state still naming an older revision once the new one is published is one the compile left
     * out (an endpoint without an address, or whose namespace is not described): it will not
     * change, and is not waited for.
     */
    private boolean settled(String key, String kind, String namespace, String name, long target) {
        PolicyStore.StoredPolicy published = reconciler.policies().get(key);
        if (published == null || published.revision() < target) {
            return false;
        }
        for (Map.Entry<String, EndpointPolicyState> e : topics.policyStates.entrySet()) {
            EndpointPolicyState state = e.getValue();
            for (PolicyRevisionRef ref : state.getPoliciesList()) {
                if (ref.getKind().equals(kind) && ref.getNamespace().equals(namespace) && ref.getName().equals(name)
                        && ref.getRevision() == published.revision()) {
                    MapApplyAck ack = topics.acks.get(e.getKey());
                    if ((ack == null || ack.getRevision() < state.getRevision()) && !topics.sendErrors(TopicId.ENDPOINT_POLICY_STATE).containsKey(e.getKey())) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Why an endpoint does not enforce: Kafka refused its state, or its agent refused the revision. */
    private static String error(String sendError, MapApplyAck ack) {
        if (sendError != null) {
            return sendError;
        }
        return ack == null ? "" : ack.getError();
    }

    /**
     * The verdict for a new connection, and at each end the policies that select the pod and the
     * rules of them that match (or that none does).
     */
    @Operation(summary = "The verdict for a new connection, the policies that select each end and the rules that match")
    @PostMapping("/explain")
    public ExplainResponse explain(@RequestBody ExplainRequest request) {
        Compilation compiled = reconciler.last();
        if (compiled == null) {
            throw new IllegalStateException("policies are not compiled yet");
        }
        // Each rule of each policy selecting the pods is compiled alone: a read token may ask, not many at once.
        if (!explains.tryAcquire()) {
            throw new IllegalStateException(MAX_EXPLAINS + " explanations are running; try again shortly");
        }
        try {
            return new Explanation(cluster(), reconciler.lastPolicies(), compiled, topics.dnsAnswers()).explain(request);
        } finally {
            explains.release();
        }
    }

    static final int MAX_EXPLAINS = 4;
    private final java.util.concurrent.Semaphore explains = new java.util.concurrent.Semaphore(MAX_EXPLAINS);

    private Cluster cluster() {
        return topics.cluster();
    }

    /** A namespace as a path gives it: "-" for a cluster-wide policy's none. */
    static String ns(String namespace) {
        return "-".equals(namespace) ? "" : namespace;
    }
}
