package dev.weir.alerting.notify;

import dev.weir.alerting.eval.Alert;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An inhibition rule as Alertmanager's: while an alert matching the source matchers fires, alerts
 * matching the target matchers with the same values of the {@code equal} labels are not notified
 * (a node that stopped reporting need not also page for each of its pods' DNS).
 */
public record Inhibition(List<Matcher> source, List<Matcher> target, List<String> equal) {

    public boolean inhibits(Alert candidate, Collection<Alert> firing) {
        if (!target.stream().allMatch(m -> m.matches(candidate.labels()))) {
            return false;
        }
        for (Alert other : firing) {
            if (other.fingerprint().equals(candidate.fingerprint()) || other.status() != Alert.Status.FIRING) {
                continue;
            }
            Map<String, String> labels = other.labels();
            if (source.stream().allMatch(m -> m.matches(labels))
                    && equal.stream().allMatch(l -> Objects.equals(labels.get(l), candidate.labels().get(l)))) {
                return true;
            }
        }
        return false;
    }
}
