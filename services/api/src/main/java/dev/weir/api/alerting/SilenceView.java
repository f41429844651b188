package dev.weir.api.alerting;

import java.time.Instant;
import java.util.List;

/** A silence: its matchers as written, and when it ends. */
public record SilenceView(String id, List<String> matchers, Instant startsAt, Instant endsAt, String createdBy, String comment) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public SilenceView {
        id = id == null ? "" : id;
        matchers = matchers == null ? List.of() : List.copyOf(matchers);
        createdBy = createdBy == null ? "" : createdBy;
        comment = comment == null ? "" : comment;
    }
}
