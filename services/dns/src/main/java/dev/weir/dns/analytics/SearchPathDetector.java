package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.dns.v1.LookupStep;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Search-path expansion (ndots): a name that resolves after candidates made of it plus a search
 * suffix were answered NXDOMAIN. The candidates are the wasted queries; the factor is queries
 * sent per answer needed.
 */
final class SearchPathDetector {

    private final DnsClientState.Builder state;
    private final LookupSteps steps;
    private final ActiveInsights insights;
    /** NXDOMAIN answers are kept this long for the answer that ends their lookup. */
    private final long horizonMs;

    SearchPathDetector(DnsClientState.Builder state, LookupSteps steps, ActiveInsights insights, DnsSettings settings) {
        this.state = state;
        this.steps = steps;
        this.insights = insights;
        this.horizonMs = settings.unansweredAfter().toMillis() * 2;
    }

    void onResponse(DnsEvent event, DnsClientStats.Builder window, long now) {
        steps.forgetBefore(now - horizonMs);
        if (event.getRcode() == Rcodes.NXDOMAIN) {
            steps.remember(event.getName(), event.getQtype(), event.getRcode(), now);
            return;
        }
        if (event.getRcode() != Rcodes.NOERROR) {
            return;
        }
        String name = event.getName();
        String[] resolved = null;
        List<String> evidence = null;
        Set<String> qtypes = null;
        boolean chained = false;
        for (int i = steps.size() - 1; i >= 0; i--) {
            LookupStep step = steps.get(i);
            if (step.getRcode() == Rcodes.NXDOMAIN) {
                if (resolved == null) {
                    resolved = labels(name);
                }
                if (candidateOf(labels(step.getName()), resolved)) {
                    if (evidence == null) {
                        evidence = new ArrayList<>();
                        qtypes = new TreeSet<>();
                    }
                    evidence.add(0, step.getQtype() + " " + step.getName() + " NXDOMAIN");
                    qtypes.add(step.getQtype());
                    steps.remove(i);
                }
            } else if (step.getRcode() == Rcodes.NOERROR && step.getName().equals(name)) {
                chained = true; // the other query type of the same expanded lookup, counted with it
            }
        }
        if (evidence == null) {
            if (!chained) {
                state.setLastDirectLookupMs(now);
            }
            return;
        }
        // One answer was needed per query type the candidates were asked with (A and AAAA: two).
        window.setSearchPathWasted(window.getSearchPathWasted() + evidence.size());
        window.setSearchPathLookups(window.getSearchPathLookups() + Math.max(1, qtypes.size()));
        steps.remember(name, event.getQtype(), Rcodes.NOERROR, now);
        state.setLastSearchPathMs(now);
        evidence.add(event.getQtype() + " " + name + " NOERROR");
        double factor = (double) (window.getSearchPathWasted() + window.getSearchPathLookups()) / window.getSearchPathLookups();
        insights.raise(InsightKind.SEARCH_PATH_EXPANSION, now, factor, evidence,
                Advice.searchPath(insights.subject(), name, evidence.size() - 1, factor, window.getSearchPathWasted()),
                List.of());
    }

    /**
     * Whether an NXDOMAIN name was a search-path candidate of the name that then resolved: both are
     * the looked-up name B plus a search suffix, the resolved one's suffix a shorter tail of the
     * candidate's (search lists run from the most specific, e.g. ns.svc.cluster.local, to the
     * least, cluster.local, and last the name as it is). So "api.payments.shop.svc.cluster.local."
     * is a candidate of "api.payments.svc.cluster.local." and of "api.payments.", not of
     * "cart.shop.svc.cluster.local.".
     */
    static boolean candidateOf(String candidate, String resolved) {
        return candidateOf(labels(candidate), labels(resolved));
    }

    private static boolean candidateOf(String[] c, String[] r) {
        int common = 0;
        while (common < c.length && common < r.length && c[common].equalsIgnoreCase(r[common])) {
            common++;
        }
        int candidateTail = c.length - common;
        int resolvedTail = r.length - common;
        if (common == 0 || candidateTail == 0 || resolvedTail >= candidateTail) {
            return false;
        }
        for (int i = 1; i <= resolvedTail; i++) { // the resolved tail ends the candidate's tail
            if (!c[c.length - i].equalsIgnoreCase(r[r.length - i])) {
                return false;
            }
        }
        return true;
    }

    private static String[] labels(String name) {
        String trimmed = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return trimmed.isEmpty() ? new String[0] : trimmed.split("\\.");
    }
}
