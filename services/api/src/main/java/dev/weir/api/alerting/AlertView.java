package dev.weir.api.alerting;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** An alert as GET /api/v1/alerting/alerts lists it (status: pending, firing or resolved). */
public record AlertView(String fingerprint, String rule, String status, Map<String, String> labels, Map<String, String> annotations, Instant startsAt, double value, List<String> silencedBy) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public AlertView {
        fingerprint = fingerprint == null ? "" : fingerprint;
        rule = rule == null ? "" : rule;
        status = status == null ? "" : status;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        silencedBy = silencedBy == null ? List.of() : List.copyOf(silencedBy);
    }
}
