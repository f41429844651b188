package dev.weir.common.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void shortFormsAndIsoForms() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parse("PT1H")).isEqualTo(Duration.ofHours(1));
        assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("'soon' is not a duration");
    }

    @Test
    void pointsInTime() {
        Instant now = Instant.parse("2026-01-01T12:00:00Z");
        assertThat(Durations.pointInTime("15m", now)).isEqualTo(Instant.parse("2026-01-01T11:45:00Z"));
        assertThat(Durations.pointInTime("2026-01-01T10:00:00Z", now)).isEqualTo(Instant.parse("2026-01-01T10:00:00Z"));
        assertThatThrownBy(() -> Durations.pointInTime("yesterday", now)).hasMessageContaining("neither");
    }

    @Test
    void durationsThatWouldOverflowOrGoBackwardsAreRefused() {
        assertThatThrownBy(() -> Durations.parse("99999999999999d")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("1000000000d")).hasMessageContaining("longer than the most allowed");
        assertThatThrownBy(() -> Durations.parse("9999999999999s")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("P-1D")).hasMessageContaining("negative");
        assertThatThrownBy(() -> Durations.parse("PT-0.001S")).hasMessageContaining("negative");
        assertThatThrownBy(() -> Durations.parse("PT99999999999999999999H")).hasMessageContaining("is not a duration");
        assertThatThrownBy(() -> Durations.parse("3651d")).hasMessageContaining("3650d");
        assertThat(Durations.parse("3650d")).isEqualTo(Durations.MAX);
        assertThat(Durations.parse("0s")).isZero();
        Instant now = Instant.parse("2026-01-01T12:00:00Z");
        assertThatThrownBy(() -> Durations.pointInTime("1000000000d", now)).hasMessageContaining("longer");
        assertThatThrownBy(() -> Durations.pointInTime("+1000000-01-01T00:00:00Z", now)).hasMessageContaining("1970 to 9999");
        assertThatThrownBy(() -> Durations.pointInTime("1960-01-01T00:00:00Z", now)).hasMessageContaining("1970 to 9999");
    }
}
