package dev.weir.api.policy;

/** A policy that is valid but probably not what was meant (DNS blocked, a selector that selects nothing). */
public record LintWarning(String policy, String field, String message) {
}
