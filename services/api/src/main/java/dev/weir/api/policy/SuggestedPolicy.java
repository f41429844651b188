package dev.weir.api.policy;

import java.util.List;

/** One suggested policy: the workload it is for, its YAML, and the rules with the traffic that justifies each. */
public record SuggestedPolicy(String kind, String namespace, String name, String workload, String yaml,
        List<SuggestedRule> rules) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public SuggestedPolicy {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
        workload = workload == null ? "" : workload;
        yaml = yaml == null ? "" : yaml;
        rules = rules == null ? List.of() : List.copyOf(rules);
    }
}
