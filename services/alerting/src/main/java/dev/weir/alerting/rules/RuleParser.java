package dev.weir.alerting.rules;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads rules from YAML or JSON: a document {@code {rules: [...]}}, a list of rules, or one rule.
 * Every error names the field ("rules[2].window") and what is wrong; unknown fields are errors.
 */
public final class RuleParser {

    private static final Set<String> FIELDS = Set.of("name", "stream", "match", "aggregate", "value", "window", "above",
            "below", "absentFor", "groupBy", "for", "keepFiringFor", "severity", "labels", "annotations");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Fields each stream's events carry: what match, groupBy and value may name. */
    public static final Map<Rule.Stream, Set<String>> LABELS = Map.of(
            Rule.Stream.FLOWS, Set.of("verdict", "drop_reason", "source_namespace", "source_workload", "source_pod",
                    "destination_namespace", "destination_workload", "destination_pod", "node", "protocol",
                    "destination_port", "policy", "type"),
            Rule.Stream.POLICY_DROPS, Set.of("verdict", "drop_reason", "source_namespace", "source_workload",
                    "source_pod", "destination_namespace", "destination_workload", "destination_pod", "node", "protocol",
                    "destination_port", "policy", "type"),
            Rule.Stream.DNS_INSIGHTS, Set.of("kind", "namespace", "pod", "workload", "node", "resolved"),
            Rule.Stream.DNS_STATS, Set.of("namespace", "pod", "workload", "node"),
            Rule.Stream.NODE_STATUS, Set.of("node", "version"),
            Rule.Stream.STAGED_DROPS, Set.of("verdict", "drop_reason", "source_namespace", "source_workload",
                    "source_pod", "destination_namespace", "destination_workload", "destination_pod", "node", "protocol",
                    "destination_port", "policy", "type"));
    public static final Map<Rule.Stream, Set<String>> VALUES = Map.of(
            Rule.Stream.FLOWS, Set.of(), Rule.Stream.POLICY_DROPS, Set.of(), Rule.Stream.STAGED_DROPS, Set.of(),
            Rule.Stream.DNS_INSIGHTS, Set.of("value"),
            Rule.Stream.DNS_STATS, Set.of("queries", "nxdomain", "servfail", "unanswered", "nxdomain_ratio",
                    "servfail_ratio", "unanswered_ratio", "latency_p95_ms", "latency_p99_ms", "search_path_wasted",
                    "dropped"),
            Rule.Stream.NODE_STATUS, Set.of("flows_seen", "flows_lost", "endpoints", "max_map_pressure"));

    private RuleParser() {
    }

    public static List<Rule> parse(String text) {
        Object document;
        try {
            List<Object> documents = dev.weir.schemas.yaml.StrictYaml.loadAll(text);
            if (documents.size() > 1) {
                throw new InvalidRule("(document)", "one document is expected, not " + documents.size());
            }
            document = documents.isEmpty() ? null : documents.get(0);
        } catch (dev.weir.schemas.yaml.StrictYaml.InvalidYaml e) {
            throw new InvalidRule(e.where(), e.getMessage().substring(e.where().length() + 2));
        }
        List<?> items;
        String prefix;
        if (document instanceof Map<?, ?> map && map.containsKey("rules")) {
            if (map.size() != 1) {
                throw new InvalidRule("(document)", "only 'rules' is expected at the top");
            }
            if (!(map.get("rules") instanceof List<?> list)) {
                throw new InvalidRule("rules", "must be a list of rules");
            }
            items = list;
            prefix = "rules";
        } else if (document instanceof List<?> list) {
            items = list;
            prefix = "";
        } else if (document instanceof Map<?, ?>) {
            items = List.of(document);
            prefix = null;
        } else {
            throw new InvalidRule("(document)", "holds no rule");
        }
        List<Rule> rules = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            String at = prefix == null ? "" : prefix + "[" + i + "].";
            if (!(items.get(i) instanceof Map<?, ?> map)) {
                throw new InvalidRule(at.isEmpty() ? "(document)" : at.substring(0, at.length() - 1), "must be a rule");
            }
            Rule rule = rule(map, at);
            if (!names.add(rule.name())) {
                throw new InvalidRule(at + "name", "'" + rule.name() + "' is used by two rules");
            }
            rules.add(rule);
        }
        return rules;
    }

    private static Rule rule(Map<?, ?> map, String at) {
        for (Object key : map.keySet()) {
            if (!FIELDS.contains(String.valueOf(key))) {
                throw new InvalidRule(at + key, "unknown field");
            }
        }
        String name = string(map, at, "name", true);
        if (!NAME.matcher(name).matches()) {
            throw new InvalidRule(at + "name", "'" + name + "' is not a name (letters, digits and '_')");
        }
        String streamId = string(map, at, "stream", true);
        Rule.Stream stream = Rule.Stream.of(streamId);
        if (stream == null) {
            throw new InvalidRule(at + "stream", "unknown stream '" + streamId + "': one of flows, policy-drops, "
                    + "dns-insights, dns-stats, node-status, staged-drops");
        }
        Map<String, String> match = stringMap(map, at, "match");
        for (String label : match.keySet()) {
            if (!LABELS.get(stream).contains(label)) {
                throw new InvalidRule(at + "match." + label, "not a label of " + streamId + " events: " + sorted(LABELS.get(stream)));
            }
        }
        List<String> groupBy = stringList(map, at, "groupBy");
        for (int g = 0; g < groupBy.size(); g++) {
            if (!LABELS.get(stream).contains(groupBy.get(g))) {
                throw new InvalidRule(at + "groupBy[" + g + "]", "not a label of " + streamId + " events: "
                        + sorted(LABELS.get(stream)));
            }
        }
        Duration absentFor = duration(map, at, "absentFor", null);
        Double above = number(map, at, "above");
        Double below = number(map, at, "below");
        int conditions = (above != null ? 1 : 0) + (below != null ? 1 : 0) + (absentFor != null ? 1 : 0);
        if (conditions != 1) {
            throw new InvalidRule(at + "above", "exactly one of above, below and absentFor is required");
        }
        String aggregateName = string(map, at, "aggregate", false);
        Rule.Aggregation aggregation;
        try {
            aggregation = aggregateName == null ? Rule.Aggregation.COUNT
                    : Rule.Aggregation.valueOf(aggregateName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRule(at + "aggregate", "'" + aggregateName + "' is not one of count, sum, max, min, avg, "
                    + "increase, p50, p95, p99");
        }
        String value = string(map, at, "value", false);
        if (aggregation.percentile()) {
            // A percentile over a range is that of the windows' histograms added together, never a
            // maximum or average of the windows' own percentiles.
            if (stream != Rule.Stream.DNS_STATS) {
                throw new InvalidRule(at + "aggregate", aggregateName + " is for dns-stats (its latency histograms)");
            }
            if (!Rule.LATENCY.equals(value)) {
                throw new InvalidRule(at + "value", "must be latency with aggregate " + aggregateName);
            }
        } else if (aggregation != Rule.Aggregation.COUNT) {
            if (value == null) {
                throw new InvalidRule(at + "value", "is required with aggregate " + aggregateName);
            }
            if (!VALUES.get(stream).contains(value)) {
                throw new InvalidRule(at + "value", "'" + value + "' is not a value of " + streamId + " events: "
                        + sorted(VALUES.get(stream)));
            }
        } else if (value != null) {
            throw new InvalidRule(at + "value", "count takes no value");
        }
        Duration window = duration(map, at, "window", absentFor != null ? Duration.ofMinutes(1) : null);
        if (window == null) {
            throw new InvalidRule(at + "window", "is required");
        }
        if (window.toSeconds() < 1 || window.toHours() > 24) {
            throw new InvalidRule(at + "window", "must be between 1s and 24h");
        }
        String severityName = string(map, at, "severity", false);
        Rule.Severity severity;
        try {
            severity = severityName == null ? Rule.Severity.WARNING : Rule.Severity.valueOf(severityName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidRule(at + "severity", "'" + severityName + "' is not one of info, warning, critical");
        }
        Map<String, String> labels = stringMap(map, at, "labels");
        for (Map.Entry<String, String> label : labels.entrySet()) {
            // Labels name the alert (its fingerprint is theirs): a value that changes would make it a new alert.
            if (label.getValue().contains("$value")) {
                throw new InvalidRule(at + "labels." + label.getKey(), "$value belongs in annotations: a label that "
                        + "changes with the value makes a new alert each time");
            }
        }
        labels.forEach((k, v) -> Template.check(at + "labels." + k, v));
        Map<String, String> annotations = stringMap(map, at, "annotations");
        annotations.forEach((k, v) -> Template.check(at + "annotations." + k, v));
        return new Rule(name, stream, match, aggregation, value == null ? "" : value, window, above, below, absentFor,
                groupBy, duration(map, at, "for", Duration.ZERO), duration(map, at, "keepFiringFor", Duration.ZERO),
                severity, labels, annotations);
    }

    private static String sorted(Set<String> names) {
        return String.join(", ", new java.util.TreeSet<>(names));
    }

    private static String string(Map<?, ?> map, String at, String field, boolean required) {
        Object value = map.get(field);
        if (value == null) {
            if (required) {
                throw new InvalidRule(at + field, "is required");
            }
            return null;
        }
        if (!(value instanceof String s) || s.isBlank()) {
            throw new InvalidRule(at + field, "must be a non-empty string");
        }
        return s;
    }

    private static Double number(Map<?, ?> map, String at, String field) {
        Object value = map.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number n)) {
            throw new InvalidRule(at + field, "must be a number");
        }
        return n.doubleValue();
    }

    static Duration duration(Map<?, ?> map, String at, String field, Duration absent) {
        Object value = map.get(field);
        if (value == null) {
            return absent;
        }
        if (!(value instanceof String text)) {
            throw new InvalidRule(at + field, "'" + value + "' is not a duration like 30s, 5m, 1h");
        }
        try {
            return dev.weir.common.time.Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidRule(at + field, e.getMessage());
        }
    }

    private static Map<String, String> stringMap(Map<?, ?> map, String at, String field) {
        Object value = map.get(field);
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new InvalidRule(at + field, "must be a map of strings");
        }
        Map<String, String> result = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (!(v instanceof String) && !(v instanceof Number) && !(v instanceof Boolean)) {
                throw new InvalidRule(at + field + "." + k, "must be a string");
            }
            result.put(String.valueOf(k), String.valueOf(v));
        });
        return result;
    }

    private static List<String> stringList(Map<?, ?> map, String at, String field) {
        Object value = map.get(field);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            throw new InvalidRule(at + field, "must be a list of label names");
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String s)) {
                throw new InvalidRule(at + field + "[" + i + "]", "must be a label name");
            }
            result.add(s);
        }
        return result;
    }
}
