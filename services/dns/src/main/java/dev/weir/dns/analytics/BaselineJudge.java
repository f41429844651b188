package dev.weir.dns.analytics;

import dev.weir.common.dns.DnsWindowMeasures;
import dev.weir.proto.dns.v1.Baseline;
import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.List;

/**
 * NXDOMAIN spikes and high latency, judged against the client's own past windows, and the
 * baseline learnt from the windows that are not themselves anomalous.
 */
final class BaselineJudge {

    private final DnsClientState.Builder state;
    private final ActiveInsights insights;
    private final int minResponses;

    BaselineJudge(DnsClientState.Builder state, ActiveInsights insights, DnsSettings settings) {
        this.state = state;
        this.insights = insights;
        this.minResponses = settings.minResponses();
    }

    void judge(DnsClientStats window) {
        long responses = DnsWindowMeasures.responses(window);
        long now = Insights.ms(window.getWindowEnd());
        if (responses < minResponses) {
            return;
        }
        // Search-path candidates are expected NXDOMAINs with their own insight: not a spike.
        double nxRatio = DnsWindowMeasures.nxdomainRatio(window);
        double p95 = window.getLatencyP95Ms();
        Baseline baseline = state.getBaseline();
        if (baseline.getWindows() >= 3) {
            if (nxRatio >= 0.2 && nxRatio > baseline.getNxdomainRatio() * 3) {
                insights.raise(InsightKind.NXDOMAIN_SPIKE, now, nxRatio, window.getTopNxdomainList().stream()
                        .map(n -> n.getName() + " NXDOMAIN x" + n.getCount()).toList(),
                        Advice.nxdomainSpike(insights.subject(), nxRatio, baseline.getNxdomainRatio()), List.of());
            } else {
                insights.quiet(InsightKind.NXDOMAIN_SPIKE, now);
            }
            if (p95 >= 20 && p95 > baseline.getLatencyP95Ms() * 3) {
                insights.raise(InsightKind.HIGH_LATENCY, now, p95, window.getTopNamesList().stream()
                        .map(n -> n.getName() + " x" + n.getCount()).toList(),
                        Advice.highLatency(insights.subject(), p95, baseline.getLatencyP95Ms()), List.of());
            } else {
                insights.quiet(InsightKind.HIGH_LATENCY, now);
            }
        }
        if (!insights.isActive(InsightKind.NXDOMAIN_SPIKE) && !insights.isActive(InsightKind.HIGH_LATENCY)) {
            double weight = baseline.getWindows() == 0 ? 1 : 0.2;
            state.setBaseline(Baseline.newBuilder().setWindows(baseline.getWindows() + 1)
                    .setNxdomainRatio(baseline.getNxdomainRatio() * (1 - weight) + nxRatio * weight)
                    .setLatencyP95Ms(baseline.getLatencyP95Ms() * (1 - weight) + p95 * weight));
        }
    }
}
