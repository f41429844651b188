package dev.weir.api.policy;

import java.time.Instant;
import java.util.List;

/**
 * GET /api/v1/policies/suggestions: least-privilege policies per workload from the recorded flows
 * of a time range, the YAML document of them all (to apply as it is, or to edit), the impact
 * preview of adding them over the same flows, and what was left out and why.
 */
public record SuggestResult(Instant since, Instant until, long flowsRead, boolean truncated, List<SuggestedPolicy> policies,
        String document, PreviewResult preview, List<String> notes) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public SuggestResult {
        policies = policies == null ? List.of() : List.copyOf(policies);
        document = document == null ? "" : document;
        notes = notes == null ? List.of() : List.copyOf(notes);
    }
}
