package dev.weir.policy.model;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kubernetes label selector: every matchLabels pair and every expression must hold. The empty
 * selector selects everything. NotIn and DoesNotExist hold for an absent key, as in Kubernetes.
 */
public record LabelSelector(Map<String, String> matchLabels, List<Requirement> expressions) {

    public static final LabelSelector EVERYTHING = new LabelSelector(Map.of(), List.of());

    public enum Operator { IN, NOT_IN, EXISTS, DOES_NOT_EXIST }

    public record Requirement(String key, Operator operator, Set<String> values) {
        boolean holds(Map<String, String> labels) {
            String value = labels.get(key);
            return switch (operator) {
                case IN -> value != null && values.contains(value);
                case NOT_IN -> value == null || !values.contains(value);
                case EXISTS -> value != null;
                case DOES_NOT_EXIST -> value == null;
            };
        }
    }

    public LabelSelector {
        matchLabels = Map.copyOf(matchLabels);
        expressions = List.copyOf(expressions);
    }

    public boolean matches(Map<String, String> labels) {
        for (Map.Entry<String, String> e : matchLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (Requirement r : expressions) {
            if (!r.holds(labels)) {
                return false;
            }
        }
        return true;
    }

    public boolean selectsEverything() {
        return matchLabels.isEmpty() && expressions.isEmpty();
    }
}
