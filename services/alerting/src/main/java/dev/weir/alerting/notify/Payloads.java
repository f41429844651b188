package dev.weir.alerting.notify;

import dev.weir.alerting.eval.Alert;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/** Notification bodies: Alertmanager's webhook payload (version 4), or Weir's own JSON. */
public final class Payloads {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ZERO_TIME = "0001-01-01T00:00:00Z";

    private Payloads() {
    }

    public static String body(Notification n, String externalUrl) {
        return JSON.writeValueAsString(n.receiver().format() == Receiver.Format.ALERTMANAGER
                ? alertmanager(n, externalUrl) : weir(n, externalUrl));
    }

    static Map<String, Object> alertmanager(Notification n, String externalUrl) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("version", "4");
        body.put("groupKey", n.groupKey());
        body.put("truncatedAlerts", 0);
        body.put("status", n.status());
        body.put("receiver", n.receiver().name());
        body.put("groupLabels", n.groupLabels());
        body.put("commonLabels", common(n.alerts(), true));
        body.put("commonAnnotations", common(n.alerts(), false));
        body.put("externalURL", externalUrl);
        body.put("alerts", n.alerts().stream().map(a -> alert(a, externalUrl)).toList());
        return body;
    }

    static Map<String, Object> weir(Notification n, String externalUrl) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("receiver", n.receiver().name());
        body.put("status", n.status());
        body.put("group", n.groupLabels());
        body.put("alerts", n.alerts().stream().map(a -> {
            Map<String, Object> alert = alert(a, externalUrl);
            alert.put("rule", a.rule());
            alert.put("value", a.value());
            return alert;
        }).toList());
        return body;
    }

    private static Map<String, Object> alert(Alert a, String externalUrl) {
        Map<String, Object> alert = new LinkedHashMap<>();
        alert.put("status", a.status() == Alert.Status.RESOLVED ? "resolved" : "firing");
        alert.put("labels", a.labels());
        alert.put("annotations", a.annotations());
        alert.put("startsAt", Instant.ofEpochMilli(a.startsAtMs()).toString());
        alert.put("endsAt", a.endsAtMs() == 0 ? ZERO_TIME : Instant.ofEpochMilli(a.endsAtMs()).toString());
        alert.put("generatorURL", externalUrl + "/api/v1/alerting/rules/" + a.rule());
        alert.put("fingerprint", a.fingerprint());
        return alert;
    }

    /** The labels (or annotations) every alert of the group has, with the same value. */
    private static Map<String, String> common(List<Alert> alerts, boolean labels) {
        Map<String, String> common = null;
        for (Alert alert : alerts) {
            Map<String, String> these = labels ? alert.labels() : alert.annotations();
            if (common == null) {
                common = new HashMap<>(these);
            } else {
                common.entrySet().removeIf(e -> !e.getValue().equals(these.get(e.getKey())));
            }
        }
        return common == null ? Map.of() : new java.util.TreeMap<>(common);
    }
}
