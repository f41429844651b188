package dev.weir.api.policy;

import java.time.Instant;

/** One stored revision of a policy: who made it, from where, and whether it deleted the policy. */
public record PolicyRevision(long revision, String source, String author, Instant created, boolean deleted) {
}
