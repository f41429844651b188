package dev.weir.api.policy;

import java.util.List;

/**
 * POST .../promote: the impact preview of enforcing the staged policy, what it judged while
 * staged, and (unless dryRun) the revision it was applied as.
 */
public record PromoteResponse(boolean dryRun, PreviewResult preview, StagedStatus staged, List<AppliedPolicy> applied,
        List<LintWarning> warnings) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PromoteResponse {
        applied = applied == null ? List.of() : List.copyOf(applied);
        warnings = warnings == null ? List.of() : List.copyOf(warnings);
    }
}
