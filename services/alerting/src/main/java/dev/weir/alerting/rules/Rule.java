package dev.weir.alerting.rules;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * An alerting rule: over the events of one stream that match its labels, an aggregate over a
 * sliding window per group (the values of the groupBy labels), compared with a threshold; or, for
 * {@code absentFor}, a group that stopped sending events. Pending while the condition holds for
 * less than {@code forDuration}, firing after, resolved once it has stopped holding for
 * {@code keepFiringFor}.
 *
 * @param value      the event field aggregated ("" for count)
 * @param above      the condition: aggregate &gt; above (null when below or absentFor is used)
 * @param below      the condition: aggregate &lt; below
 * @param absentFor  the condition: no event of the group for this long (null when unused)
 */
public record Rule(String name, Stream stream, Map<String, String> match, Aggregation aggregation, String value,
        Duration window, Double above, Double below, Duration absentFor, List<String> groupBy, Duration forDuration,
        Duration keepFiringFor, Severity severity, Map<String, String> labels, Map<String, String> annotations) {

    public Rule {
        match = Map.copyOf(match);
        groupBy = List.copyOf(groupBy);
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
    }

    /** The streams rules read, with the Kafka topic each comes from. */
    public enum Stream {
        FLOWS("flows"), POLICY_DROPS("policy-drops"), DNS_INSIGHTS("dns-insights"), DNS_STATS("dns-stats"),
        NODE_STATUS("node-status"),
        /** Connections a staged policy would drop (one event per staged policy, named in "policy"). */
        STAGED_DROPS("staged-drops");

        private final String id;

        Stream(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Stream of(String id) {
            for (Stream s : values()) {
                if (s.id.equals(id)) {
                    return s;
                }
            }
            return null;
        }
    }

    public enum Aggregation {
        COUNT, SUM, MAX, MIN, AVG, INCREASE,
        /** Percentiles of the DNS windows' latency histograms added together (value: latency). */
        P50, P95, P99;

        public boolean percentile() {
            return this == P50 || this == P95 || this == P99;
        }
    }

    /** The value a percentile aggregate reads: the DNS windows' latency histogram. */
    public static final String LATENCY = "latency";

    public enum Severity { INFO, WARNING, CRITICAL }

    /** Whether the aggregate of a group satisfies the threshold. */
    public boolean holds(double aggregate) {
        if (above != null) {
            return aggregate > above;
        }
        return below != null && aggregate < below;
    }
}
