package dev.weir.api.alerting;

import java.util.List;

/** POST /api/v1/alerting/silences: matchers as name=value, name!=value, name=~regex or name!~regex; a duration or an end. */
public record SilenceRequest(List<String> matchers, String startsAt, String endsAt, String duration, String createdBy, String comment) {
}
