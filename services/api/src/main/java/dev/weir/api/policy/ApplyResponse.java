package dev.weir.api.policy;

import java.util.List;

/** POST /api/v1/policies: what was (or, with dryRun, would be) applied, and the lint warnings. */
public record ApplyResponse(boolean dryRun, List<AppliedPolicy> applied, List<LintWarning> warnings) {
}
