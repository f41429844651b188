package dev.weir.api.alerting;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** An alert as GET /api/v1/alerting/alerts lists it (status: pending, firing or resolved). */
public record AlertView(String fingerprint, String rule, String status, Map<String, String> labels, Map<String, String> annotations, Instant startsAt, double value, List<String> silencedBy) {
}
