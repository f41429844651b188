package dev.weir.api.policy;

import java.time.Instant;
import java.util.List;

/**
 * A staged policy: judged against live flows since it was staged, never enforced. How many
 * connections were judged, how many it would have dropped, and the connections it would drop,
 * most frequent first. The id names this staging (promote takes it, so that what was looked at is
 * what is promoted); error says why it is not judged, when it is not.
 */
public record StagedStatus(long id, String kind, String namespace, String name, Instant stagedAt, String author, long judged,
        long wouldDrop, List<StagedDrop> examples, String error) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public StagedStatus {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
        author = author == null ? "" : author;
        examples = examples == null ? List.of() : List.copyOf(examples);
        error = error == null ? "" : error;
    }
}
