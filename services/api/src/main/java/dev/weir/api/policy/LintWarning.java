package dev.weir.api.policy;

/** A policy that is valid but probably not what was meant (DNS blocked, a selector that selects nothing). */
public record LintWarning(String policy, String field, String message) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public LintWarning {
        policy = policy == null ? "" : policy;
        field = field == null ? "" : field;
        message = message == null ? "" : message;
    }
}
