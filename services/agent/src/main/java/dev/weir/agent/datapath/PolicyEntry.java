package dev.weir.agent.datapath;

/** A policy map value: the control plane's cookie naming the rule, and whether it denies. */
public record PolicyEntry(int cookie, boolean deny) {
}
