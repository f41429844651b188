package dev.weir.common.time;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The durations users write to Weir's APIs and rules: a number and a unit (500ms, 30s, 5m, 1h,
 * 7d), or ISO-8601 (PT1H); and points in time as a duration back from now or an ISO-8601 instant.
 * Parse errors are IllegalArgumentExceptions whose message says what was wrong, for the caller to
 * report with the field at fault.
 */
public final class Durations {

    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h|d)");

    private Durations() {
    }

    public static Duration parse(String text) {
        Matcher m = SHORT.matcher(text == null ? "" : text.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (text != null && text.startsWith("P")) {
            try {
                return Duration.parse(text);
            } catch (DateTimeParseException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration like 30s, 5m, 1h or PT1H");
    }

    /** A duration back from {@code now}, or an instant. */
    public static Instant pointInTime(String text, Instant now) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            try {
                return now.minus(parse(text));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new IllegalArgumentException("'" + text + "' is neither an ISO-8601 instant nor a duration like 15m "
                        + "or PT1H");
            }
        }
    }
}
