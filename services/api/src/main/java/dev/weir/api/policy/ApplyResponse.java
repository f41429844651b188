package dev.weir.api.policy;

import java.util.List;

/**
 * POST /api/v1/policies: what was (or, with dryRun, would be) applied, or staged (judged against
 * live flows, not enforced), and the lint warnings.
 */
public record ApplyResponse(boolean dryRun, List<AppliedPolicy> applied, List<LintWarning> warnings, boolean staged) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ApplyResponse {
        applied = applied == null ? List.of() : List.copyOf(applied);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }

    public ApplyResponse(boolean dryRun, List<AppliedPolicy> applied, List<LintWarning> warnings) {
        this(dryRun, applied, warnings, false);
    }
}
