package dev.weir.alerting.eval;

import dev.weir.alerting.rules.Rule;
import java.util.Map;

/** One record of a stream, as rules see it: labels to match and group by, numeric values, a time. */
public record Event(Rule.Stream stream, long timeMs, Map<String, String> labels, Map<String, Double> values) {
}
