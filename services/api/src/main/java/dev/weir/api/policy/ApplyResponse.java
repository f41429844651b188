package dev.weir.api.policy;

import java.util.List;

/** POST /api/v1/policies: what was (or, with dryRun, would be) applied, and the lint warnings. */
public record ApplyResponse(boolean dryRun, List<AppliedPolicy> applied, List<LintWarning> warnings) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ApplyResponse {
        applied = applied == null ? List.of() : List.copyOf(applied);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }
}
