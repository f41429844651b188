package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.common.dns.DnsWindowMeasures;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.List;

/**
 * A resolver that rate-limits answers some of a burst and refuses the rest (REFUSED, or SERVFAIL
 * from a forwarder whose upstream throttles): within one second, answers and refusals side by
 * side. A broken zone refuses every time; a rate limit only above its rate, so the answers of a
 * second that also had refusals are the limit the client hit. Counted per second of response
 * time in the client's state, summed into its window.
 */
final class RateLimits {

    /** Refusals in a window, at least, and of its responses, at least a tenth, for a finding. */
    static final int MIN_REFUSED = 5;

    private RateLimits() {
    }

    /** One response, at {@code nowMs}. */
    static void count(DnsClientState.Builder state, DnsClientStats.Builder window, int rcode, long nowMs) {
        long second = Math.floorDiv(nowMs, 1000);
        if (second > state.getRateSecond()) { // a late event counts in the second being counted
            closeSecond(state, window);
            state.setRateSecond(second);
        }
        if (rcode == Rcodes.REFUSED || rcode == Rcodes.SERVFAIL) {
            state.setRateRefused(state.getRateRefused() + 1);
        } else {
            state.setRateAnswered(state.getRateAnswered() + 1);
        }
    }

    /** The second counted so far ends (a new second, or the window closes). */
    static void closeSecond(DnsClientState.Builder state, DnsClientStats.Builder window) {
        long answered = state.getRateAnswered();
        long total = answered + state.getRateRefused();
        if (state.getRateRefused() > 0) {
            window.setQuietestRefusingSecond(window.getQuietestRefusingSecond() == 0 ? total
                    : Math.min(window.getQuietestRefusingSecond(), total));
            if (answered > 0) {
                window.setLimitedSeconds(window.getLimitedSeconds() + 1);
                window.setLimitPerSecond(Math.max(window.getLimitPerSecond(), answered));
            }
        } else if (answered > 0) {
            window.setBusiestCleanSecond(Math.max(window.getBusiestCleanSecond(), answered));
        }
        state.setRateAnswered(0).setRateRefused(0);
    }

    /** A closed window that shows a rate limit raises its insight, with the limit the client hit. */
    static void judge(DnsClientState.Builder state, DnsClientStats window, ActiveInsights insights) {
        if (!limited(window)) {
            return;
        }
        long now = Insights.ms(window.getWindowEnd());
        state.setLastRateLimitedMs(now);
        insights.raise(InsightKind.RATE_LIMITED, now, window.getLimitPerSecond(),
                List.of(Advice.rateLimitEvidence(window.getResponsesOrDefault("REFUSED", 0),
                        window.getResponsesOrDefault("SERVFAIL", 0), DnsWindowMeasures.responses(window),
                        window.getLimitedSeconds(), window.getLimitPerSecond())),
                Advice.rateLimited(insights.subject(), refusals(window), window.getLimitPerSecond()), List.of());
    }

    static long refusals(DnsClientStats window) {
        return window.getResponsesOrDefault("REFUSED", 0) + window.getResponsesOrDefault("SERVFAIL", 0);
    }

    /**
     * Whether a closed window shows a rate limit: refusals beside answers within a second, and
     * refusals that go by rate or not by name: the refused names were answered at other times (a
     * token bucket refuses what it answered before), or every second with refusals was busier than
     * every second without (a limit per second). One name that is refused every time it is asked
     * is a broken name, however busy the seconds it is asked in.
     */
    static boolean limited(DnsClientStats window) {
        long refused = refusals(window);
        // By rate: there were seconds without refusals, and all were quieter than those with some.
        boolean byRate = window.getBusiestCleanSecond() > 0
                && window.getQuietestRefusingSecond() > window.getBusiestCleanSecond();
        return window.getLimitedSeconds() > 0 && refused >= MIN_REFUSED
                && refused * 10 >= DnsWindowMeasures.responses(window)
                && (window.getRefusedNamesAnswered() || byRate);
    }
}
