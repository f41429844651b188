package dev.weir.alerting.notify;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A silence: alerts whose labels match every matcher are not notified between start and end. */
public record Silence(String id, List<Matcher> matchers, Instant startsAt, Instant endsAt, String createdBy,
        String comment) {

    public boolean active(Instant now) {
        return !now.isBefore(startsAt) && now.isBefore(endsAt);
    }

    public boolean silences(Map<String, String> labels, Instant now) {
        return active(now) && matchers.stream().allMatch(m -> m.matches(labels));
    }
}
