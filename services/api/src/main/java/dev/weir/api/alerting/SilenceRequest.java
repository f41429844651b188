package dev.weir.api.alerting;

import java.util.List;

/** POST /api/v1/alerting/silences: matchers as name=value, name!=value, name=~regex or name!~regex; a duration or an end. */
public record SilenceRequest(List<String> matchers, String startsAt, String endsAt, String duration, String createdBy, String comment) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public SilenceRequest {
        matchers = matchers == null ? List.of() : List.copyOf(matchers);
        startsAt = startsAt == null ? "" : startsAt;
        endsAt = endsAt == null ? "" : endsAt;
        duration = duration == null ? "" : duration;
        createdBy = createdBy == null ? "" : createdBy;
        comment = comment == null ? "" : comment;
    }
}
