package dev.weir.alerting.eval;

import dev.weir.alerting.rules.Rule;
import java.util.Map;

/**
 * One record of a stream, as rules see it: labels to match and group by, numeric values, a time,
 * and for a DNS window its latency histogram (null otherwise).
 */
public record Event(Rule.Stream stream, long timeMs, Map<String, String> labels, Map<String, Double> values,
        long[] latencyBuckets) {

    public Event(Rule.Stream stream, long timeMs, Map<String, String> labels, Map<String, Double> values) {
        this(stream, timeMs, labels, values, null);
    }
}
