package dev.weir.api.policy;

/** DELETE /api/v1/policies/{kind}/{namespace}/{name}: the revision that deleted it. */
public record PolicyDeleted(boolean deleted, long revision) {
}
