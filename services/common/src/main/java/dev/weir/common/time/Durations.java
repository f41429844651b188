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
 * report with the field at fault. Every duration is range-checked here, so that no caller meets
 * an overflow: never negative, at most {@link #MAX} (ten years), and instants between 1970 and
 * the year 9999.
 */
public final class Durations {

    /** The longest duration any API or rule takes: ten years, far beyond any retention. */
    public static final Duration MAX = Duration.ofDays(3650);
    private static final Instant EARLIEST = Instant.EPOCH;
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");
    /** At most 12 digits: a longer number is refused before it can overflow a long. */
    private static final Pattern SHORT = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

    private Durations() {
    }

    public static Duration parse(String text) {
        return bounded(text, unbounded(text));
    }

    private static Duration unbounded(String text) {
        String trimmed = text == null ? "" : text.trim();
        if (trimmed.length() > 40) {
            throw new IllegalArgumentException("'" + trimmed.substring(0, 40) + "…' is not a duration like 30s, 5m, 1h or PT1H");
        }
        Matcher m = SHORT.matcher(trimmed);
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
        if (trimmed.startsWith("P")) {
            try {
                return Duration.parse(trimmed);
            } catch (DateTimeParseException | ArithmeticException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a duration like 30s, 5m, 1h or PT1H");
    }

    private static Duration bounded(String text, Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative; a duration must be zero or more");
        }
        if (duration.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("'" + text + "' is longer than the most allowed, " + MAX.toDays() + "d");
        }
        return duration;
    }

    /** A duration back from {@code now}, or an instant. */
    public static Instant pointInTime(String text, Instant now) {
        Instant instant;
        try {
            instant = Instant.parse(text);
        } catch (DateTimeParseException notAnInstant) {
            Duration back;
            try {
                back = unbounded(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "' is neither an ISO-8601 instant nor a duration like 15m "
                        + "or PT1H");
            }
            instant = now.minus(bounded(text, back));
        }
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            throw new IllegalArgumentException("'" + text + "' is outside the years 1970 to 9999");
        }
        return instant;
    }
}
