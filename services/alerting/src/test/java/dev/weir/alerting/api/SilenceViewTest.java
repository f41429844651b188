package dev.weir.alerting.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.alerting.notify.Matcher;
import dev.weir.alerting.notify.Silence;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** A silence reads back with its matchers as they were written, not as empty objects. */
class SilenceViewTest {

    @Test
    void matchersAreShownAsWritten() {
        Silence silence = new Silence("s-1", List.of(Matcher.parse("alertname=DnsNxdomainRatio"), Matcher.parse("pod=~cart-.*")),
                Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T02:00:00Z"), "ops", "known");
        String json = JsonMapper.builder().build().writeValueAsString(AlertingController.view(silence));
        assertThat(json).contains("\"matchers\":[\"alertname=DnsNxdomainRatio\",\"pod=~cart-.*\"]")
                .contains("\"endsAt\":\"2026-01-01T02:00:00Z\"");
    }
}
