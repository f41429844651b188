package dev.weir.api.policy;

import java.time.Instant;

/** One stored revision of a policy: who made it, from where, and whether it deleted the policy. */
public record PolicyRevision(long revision, String source, String author, Instant created, boolean deleted) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PolicyRevision {
        source = source == null ? "" : source;
        author = author == null ? "" : author;
    }
}
