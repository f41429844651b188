package dev.weir.policy.service;

import dev.weir.api.policy.ApplyResponse;
import dev.weir.api.policy.PromoteResponse;
import dev.weir.api.policy.StagedStatus;
import dev.weir.policy.model.PolicyParser;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Staged policies (POST /policies?staged=true stages them): what each would drop, unstage,
 * promote to enforced after its impact preview, and restore an earlier revision of a policy.
 * A cluster-wide Weir policy has the namespace "-" in paths.
 */
@RestController
@RequestMapping("/api/v1")
public class StagedPolicyController {

    private final StagedPolicies staged;

    public StagedPolicyController(StagedPolicies staged) {
        this.staged = staged;
    }

    @Operation(summary = "The staged policies, with what each would have dropped since it was staged")
    @GetMapping("/policies/staged")
    public List<StagedStatus> list() {
        return staged.list();
    }

    @Operation(summary = "One staged policy: the connections it would drop, most frequent first")
    @GetMapping("/policies/{kind}/{namespace}/{name}/staged")
    public ResponseEntity<StagedStatus> get(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name) {
        return ResponseEntity.of(staged.status(kind, PolicyController.ns(namespace), name));
    }

    @Operation(summary = "Unstage a policy (the enforced revision, if any, stays)")
    @DeleteMapping("/policies/{kind}/{namespace}/{name}/staged")
    public ResponseEntity<java.util.Map<String, Boolean>> unstage(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name) {
        return staged.unstage(kind, PolicyController.ns(namespace), name) ? ResponseEntity.ok(java.util.Map.of("unstaged", true))
                : ResponseEntity.notFound().build();
    }

    @Operation(summary = "Promote a staged policy to enforced: its impact preview, and unless dryRun the revision it became")
    @PostMapping("/policies/{kind}/{namespace}/{name}/promote")
    public ResponseEntity<PromoteResponse> promote(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name,
            @Parameter(description = "true: the preview only, nothing promoted.") @RequestParam(defaultValue = "false") boolean dryRun,
            @Parameter(description = "Minutes of recorded flows the preview judges again (1-1440).") @RequestParam(defaultValue = "10") int minutes,
            @Parameter(description = "The staging looked at (its status's id): a 409 when another replaced it since.") @RequestParam(name = "staging", required = false) Long stagedId,
            java.security.Principal author) {
        if (minutes < 1 || minutes > 1440) {
            throw new PolicyParser.InvalidPolicy("minutes", minutes + " is out of range 1-1440");
        }
        return ResponseEntity.of(staged.promote(kind, PolicyController.ns(namespace), name, dryRun, minutes, stagedId, author.getName()));
    }

    @Operation(summary = "Restore an earlier revision of a policy (the latest before the current by default) as a new revision")
    @PostMapping("/policies/{kind}/{namespace}/{name}/restore")
    public ResponseEntity<ApplyResponse> restore(@Parameter(description = "NetworkPolicy or WeirNetworkPolicy.") @PathVariable String kind, @Parameter(description = "The namespace, or - for a cluster-wide policy.") @PathVariable String namespace,
            @Parameter(description = "The policy's name.") @PathVariable String name,
            @Parameter(description = "The revision to restore; the latest earlier one holding the policy when absent.") @RequestParam(required = false) Long revision,
            java.security.Principal author) {
        return ResponseEntity.of(staged.restore(kind, PolicyController.ns(namespace), name, revision, author.getName()));
    }
}
