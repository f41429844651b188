package dev.weir.api.policy;

/** One policy of an apply: its revision now, and whether this apply changed it. */
public record AppliedPolicy(String kind, String namespace, String name, long revision, boolean changed) {
}
