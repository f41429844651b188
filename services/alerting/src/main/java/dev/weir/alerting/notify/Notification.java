package dev.weir.alerting.notify;

import dev.weir.alerting.eval.Alert;
import java.util.List;
import java.util.Map;

/** One notification of a group of alerts to a receiver. */
public record Notification(Receiver receiver, String groupKey, Map<String, String> groupLabels, List<Alert> alerts) {

    public String status() {
        return alerts.stream().anyMatch(a -> a.status() == Alert.Status.FIRING) ? "firing" : "resolved";
    }
}
