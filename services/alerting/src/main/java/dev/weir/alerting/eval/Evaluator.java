package dev.weir.alerting.eval;

import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.Template;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Evaluates rules over the events of their streams: a sliding window per rule and group (one-second
 * buckets), and each alert's lifecycle (pending → firing → resolved) at every tick. Times are
 * given, not read, so that tests and replays decide the clock. One thread adds and ticks; others
 * may read the alerts.
 */
public final class Evaluator {

    private final Map<Rule.Stream, RuleIndex> rulesByStream = new EnumMap<>(Rule.Stream.class);
    private final Map<String, RuleState> rules = new LinkedHashMap<>();

    /** A rule and its groups. */
    private static final class RuleState {
        final Rule rule;
        final Map<List<String>, Group> groups = new HashMap<>();

        RuleState(Rule rule) {
            this.rule = rule;
        }
    }

    /** One group of a rule: its window and its alert's state. */
    private static final class Group {
        final Map<String, String> labels;
        final Window window;
        long lastSeenMs;
        Alert.Status status;
        long activeSinceMs;
        long lastHeldMs;
        double value;

        Group(Map<String, String> labels, int seconds) {
            this.labels = labels;
            this.window = new Window(seconds);
        }
    }

    public synchronized void setRules(List<Rule> newRules) {
        Map<String, RuleState> kept = new LinkedHashMap<>();
        for (Rule rule : newRules) {
            RuleState previous = rules.get(rule.name());
            kept.put(rule.name(), previous != null && previous.rule.equals(rule) ? previous : new RuleState(rule));
        }
        rules.clear();
        rules.putAll(kept);
        rulesByStream.clear();
        for (RuleState state : rules.values()) {
            rulesByStream.computeIfAbsent(state.rule.stream(), s -> new RuleIndex()).add(state.rule);
        }
    }

    /**
     * A stream's rules, indexed by one of their equality matches: an event meets only the rules
     * whose indexed label has its value (and those matching everything), not every rule loaded.
     */
    private static final class RuleIndex {
        final List<Rule> unindexed = new ArrayList<>();
        final Map<String, Map<String, List<Rule>>> byLabel = new HashMap<>();

        void add(Rule rule) {
            if (rule.match().isEmpty()) {
                unindexed.add(rule);
                return;
            }
            String label = new java.util.TreeSet<>(rule.match().keySet()).first();
            byLabel.computeIfAbsent(label, l -> new HashMap<>())
                    .computeIfAbsent(rule.match().get(label), v -> new ArrayList<>()).add(rule);
        }

        void candidates(Event event, java.util.function.Consumer<Rule> sink) {
            unindexed.forEach(sink);
            for (Map.Entry<String, Map<String, List<Rule>>> index : byLabel.entrySet()) {
                List<Rule> rules = index.getValue().get(event.labels().get(index.getKey()));
                if (rules != null) {
                    rules.forEach(sink);
                }
            }
        }
    }

    public synchronized List<Rule> rules() {
        return rules.values().stream().map(r -> r.rule).toList();
    }

    public synchronized void add(Event event, long nowMs) {
        RuleIndex index = rulesByStream.get(event.stream());
        if (index != null) {
            index.candidates(event, rule -> add(rule, event, nowMs));
        }
    }

    private void add(Rule rule, Event event, long nowMs) {
        if (!matches(rule, event)) {
            return;
        }
        List<String> key = new ArrayList<>(rule.groupBy().size());
        for (String label : rule.groupBy()) {
            key.add(event.labels().getOrDefault(label, ""));
        }
        RuleState state = rules.get(rule.name());
        Group group = state.groups.computeIfAbsent(key, k -> new Group(groupLabels(rule, k),
                (int) Math.max(1, rule.window().toSeconds())));
        if (rule.aggregation().percentile()) {
            if (event.latencyBuckets() != null) {
                group.window.addHistogram(nowMs / 1000, event.latencyBuckets());
            }
        } else {
            double value = rule.aggregation() == Rule.Aggregation.COUNT ? 1 : event.values().getOrDefault(rule.value(), 0.0);
            group.window.add(nowMs / 1000, value);
        }
        group.lastSeenMs = nowMs;
    }

    private static boolean matches(Rule rule, Event event) {
        for (Map.Entry<String, String> m : rule.match().entrySet()) {
            if (!m.getValue().equals(event.labels().get(m.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, String> groupLabels(Rule rule, List<String> key) {
        Map<String, String> labels = new TreeMap<>();
        for (int i = 0; i < key.size(); i++) {
            labels.put(rule.groupBy().get(i), key.get(i));
        }
        return labels;
    }

    /** Moves every alert on; returns the alerts that changed status (resolved ones last seen here). */
    public synchronized List<Alert> tick(long nowMs) {
        List<Alert> changes = new ArrayList<>();
        for (RuleState state : rules.values()) {
            Rule rule = state.rule;
            for (Iterator<Group> it = state.groups.values().iterator(); it.hasNext();) {
                Group group = it.next();
                boolean holds;
                if (rule.absentFor() != null) {
                    holds = nowMs - group.lastSeenMs >= rule.absentFor().toMillis();
                    group.value = (nowMs - group.lastSeenMs) / 1000.0;
                } else {
                    group.value = group.window.aggregate(rule.aggregation(), nowMs / 1000);
                    holds = group.window.count(nowMs / 1000) > 0 && rule.holds(group.value);
                }
                Alert.Status before = group.status;
                if (holds) {
                    group.lastHeldMs = nowMs;
                    if (group.status == null) {
                        group.status = Alert.Status.PENDING;
                        group.activeSinceMs = nowMs;
                    }
                    if (group.status == Alert.Status.PENDING && nowMs - group.activeSinceMs >= rule.forDuration().toMillis()) {
                        group.status = Alert.Status.FIRING;
                    }
                } else if (group.status == Alert.Status.PENDING) {
                    group.status = null;
                } else if (group.status == Alert.Status.FIRING
                        && nowMs - group.lastHeldMs >= rule.keepFiringFor().toMillis()) {
                    changes.add(alert(rule, group, Alert.Status.RESOLVED, nowMs));
                    group.status = null;
                }
                if (group.status != before && group.status != null) {
                    changes.add(alert(rule, group, group.status, 0));
                }
                boolean idle = rule.absentFor() == null && group.window.count(nowMs / 1000) == 0;
                if (group.status == null && idle) {
                    it.remove();
                }
            }
        }
        return changes;
    }

    /** A firing alert as a restart needs it: which rule, which group, since when. */
    public record Firing(String fingerprint, String rule, List<String> key, long activeSinceMs) {
    }

    /** The firing alerts now. */
    public synchronized List<Firing> firing() {
        List<Firing> firing = new ArrayList<>();
        for (RuleState state : rules.values()) {
            for (Map.Entry<List<String>, Group> entry : state.groups.entrySet()) {
                Group group = entry.getValue();
                if (group.status == Alert.Status.FIRING) {
                    firing.add(new Firing(alert(state.rule, group, group.status, 0).fingerprint(), state.rule.name(),
                            List.copyOf(entry.getKey()), group.activeSinceMs));
                }
            }
        }
        return firing;
    }

    /**
     * Takes back an alert that was firing before a restart, with its start: it keeps firing while
     * its condition holds, and resolves (and is notified resolved) once the rule's window and
     * keep-firing time have passed without it holding, as if the service had never stopped.
     *
     * @return false when its rule is gone or its group does not fit the rule any more
     */
    public synchronized boolean restore(Firing alert, long nowMs) {
        RuleState state = rules.get(alert.rule());
        if (state == null || alert.key().size() != state.rule.groupBy().size()) {
            return false;
        }
        Rule rule = state.rule;
        Group group = state.groups.computeIfAbsent(List.copyOf(alert.key()), k -> new Group(groupLabels(rule, k),
                (int) Math.max(1, rule.window().toSeconds())));
        group.status = Alert.Status.FIRING;
        group.activeSinceMs = alert.activeSinceMs();
        // The window is empty after a restart: give it one window's time (an absence rule its absence
        // time) to fill before the alert may resolve.
        long grace = Math.max(rule.window().toMillis(), rule.absentFor() == null ? 0 : rule.absentFor().toMillis());
        group.lastHeldMs = nowMs + grace;
        group.lastSeenMs = nowMs;
        return true;
    }

    /** The pending and firing alerts now. */
    public synchronized List<Alert> alerts() {
        List<Alert> alerts = new ArrayList<>();
        for (RuleState state : rules.values()) {
            for (Group group : state.groups.values()) {
                if (group.status != null) {
                    alerts.add(alert(state.rule, group, group.status, 0));
                }
            }
        }
        return alerts;
    }

    private static Alert alert(Rule rule, Group group, Alert.Status status, long endsAtMs) {
        Map<String, String> labels = new TreeMap<>(group.labels);
        rule.labels().forEach((k, v) -> labels.put(k, Template.render(v, group.labels, group.value)));
        labels.put("alertname", rule.name());
        labels.put("severity", rule.severity().name().toLowerCase(java.util.Locale.ROOT));
        Map<String, String> annotations = new TreeMap<>();
        rule.annotations().forEach((k, v) -> annotations.put(k, Template.render(v, labels, group.value)));
        return new Alert(Alert.fingerprint(labels), rule.name(), Map.copyOf(labels), Map.copyOf(annotations), status,
                group.activeSinceMs, endsAtMs, group.value);
    }

    /** A sliding window of one-second buckets. */
    static final class Window {
        private final long[] second;
        private final long[] count;
        private final double[] sum;
        private final double[] max;
        private final double[] min;
        /** Per second, the latency histograms added in it (allocated for the seconds that have one). */
        private final long[][] histogram;

        Window(int seconds) {
            histogram = new long[seconds][];
            second = new long[seconds];
            java.util.Arrays.fill(second, -1);
            count = new long[seconds];
            sum = new double[seconds];
            max = new double[seconds];
            min = new double[seconds];
        }

        void add(long nowSecond, double value) {
            int slot = (int) Math.floorMod(nowSecond, (long) second.length);
            if (second[slot] != nowSecond) {
                second[slot] = nowSecond;
                count[slot] = 0;
                sum[slot] = 0;
                max[slot] = Double.NEGATIVE_INFINITY;
                min[slot] = Double.POSITIVE_INFINITY;
            }
            count[slot]++;
            sum[slot] += value;
            max[slot] = Math.max(max[slot], value);
            min[slot] = Math.min(min[slot], value);
        }

        /** A DNS window's latency histogram, added to this second's. */
        void addHistogram(long nowSecond, long[] buckets) {
            add(nowSecond, 0);
            int slot = (int) Math.floorMod(nowSecond, (long) second.length);
            if (histogram[slot] == null || count[slot] == 1) {
                histogram[slot] = new long[buckets.length];
            }
            for (int b = 0; b < buckets.length && b < histogram[slot].length; b++) {
                histogram[slot][b] += buckets[b];
            }
        }

        private double percentile(double q, long nowSecond) {
            long[] merged = new long[dev.weir.common.dns.LatencyHistogram.BUCKETS];
            for (int i = 0; i < second.length; i++) {
                if (live(i, nowSecond) && histogram[i] != null) {
                    for (int b = 0; b < merged.length && b < histogram[i].length; b++) {
                        merged[b] += histogram[i][b];
                    }
                }
            }
            return dev.weir.common.dns.LatencyHistogram.percentile(merged, q);
        }

        private boolean live(int slot, long nowSecond) {
            return second[slot] > nowSecond - second.length && second[slot] <= nowSecond;
        }

        long count(long nowSecond) {
            long total = 0;
            for (int i = 0; i < second.length; i++) {
                if (live(i, nowSecond)) {
                    total += count[i];
                }
            }
            return total;
        }

        double aggregate(Rule.Aggregation aggregation, long nowSecond) {
            long n = 0;
            double s = 0;
            double hi = Double.NEGATIVE_INFINITY;
            double lo = Double.POSITIVE_INFINITY;
            for (int i = 0; i < second.length; i++) {
                if (live(i, nowSecond)) {
                    n += count[i];
                    s += sum[i];
                    hi = Math.max(hi, max[i]);
                    lo = Math.min(lo, min[i]);
                }
            }
            if (n == 0) {
                return 0;
            }
            return switch (aggregation) {
                case COUNT -> n;
                case SUM -> s;
                case MAX -> hi;
                case MIN -> lo;
                case AVG -> s / n;
                case INCREASE -> hi - lo; // counters only grow (a reset reads as no increase)
                case P50 -> percentile(0.50, nowSecond);
                case P95 -> percentile(0.95, nowSecond);
                case P99 -> percentile(0.99, nowSecond);
            };
        }
    }
}
