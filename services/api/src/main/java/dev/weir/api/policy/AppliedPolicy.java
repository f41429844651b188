package dev.weir.api.policy;

/** One policy of an apply: its revision now, and whether this apply changed it. */
public record AppliedPolicy(String kind, String namespace, String name, long revision, boolean changed) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public AppliedPolicy {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
    }
}
