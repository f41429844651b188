package dev.weir.api.policy;

import java.time.Instant;
import java.util.List;

/** POST /api/v1/policies/preview: the changed verdicts over the recorded flows since a time. */
public record PreviewResult(Instant since, long flowsRead, long connectionsJudged, List<PreviewChange> changes, boolean truncated) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PreviewResult {
        changes = changes == null ? List.of() : List.copyOf(changes);
    }
}
