package dev.weir.policy.model;

/** A policy map value: the cookie of the policy whose rule produced it, and whether it denies. */
public record MapEntry(int cookie, boolean deny) {
}
