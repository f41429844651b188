package dev.weir.api.alerting;

import java.time.Instant;
import java.util.List;

/** A silence: its matchers as written, and when it ends. */
public record SilenceView(String id, List<String> matchers, Instant startsAt, Instant endsAt, String createdBy, String comment) {
}
