package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.dns.v1.NameCount;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Names the pod asks for that never resolve: a name asked as it is (the last query of a lookup,
 * after the search-path candidates) answered NXDOMAIN in this window and in an earlier one within
 * resolve-after, and neither it nor a candidate of it answered in this one (one lookup, its A
 * and AAAA, is not "keeps asking").
 */
final class UnresolvableNames {

    /** Failures of one name as asked, in each of two windows in a row, that make it a name that does not resolve. */
    static final int UNRESOLVABLE_AFTER = 1;

    private final DnsClientState.Builder state;
    private final SearchList searchList;
    private final ActiveInsights insights;
    private final long resolveAfterMs;
    private final long windowMs;

    UnresolvableNames(DnsClientState.Builder state, SearchList searchList, ActiveInsights insights, DnsSettings settings) {
        this.state = state;
        this.searchList = searchList;
        this.insights = insights;
        this.resolveAfterMs = settings.resolveAfter().toMillis();
        this.windowMs = settings.window().toMillis();
    }

    void judge(ClientWindow.Closed closed) {
        DnsClientStats window = closed.stats();
        List<NameCount> failedAsAsked = closed.failedAsAsked();
        Set<String> resolved = closed.resolved();
        long now = closed.endMs();
        String namespace = window.getNamespace();
        SearchList suffixes = searchList.of(namespace);
        List<String> failingNow = new ArrayList<>();
        for (NameCount failing : failedAsAsked) {
            if (failing.getCount() >= UNRESOLVABLE_AFTER && !resolved.contains(failing.getName())) {
                failingNow.add(failing.getName());
            }
        }
        // Names that failed in an earlier window within resolve-after (not necessarily the last:
        // a pod that asks every 15 s has windows without the lookup).
        long horizon = now - resolveAfterMs;
        Map<String, Long> before = new LinkedHashMap<>();
        for (int i = 0; i < state.getFailingNamesCount() && i < state.getFailingAtMsCount(); i++) {
            if (state.getFailingAtMs(i) >= horizon && state.getFailingAtMs(i) < now) {
                before.put(state.getFailingNames(i), state.getFailingAtMs(i));
            }
        }
        Map<String, Long> remembered = new LinkedHashMap<>(before);
        failingNow.forEach(name -> remembered.put(name, now));
        state.clearFailingNames().clearFailingAtMs();
        remembered.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(DnsSettings.TOP * 2L).forEach(e -> {
                    state.addFailingNames(e.getKey());
                    state.addFailingAtMs(e.getValue());
                });
        List<String> evidence = new ArrayList<>();
        String worst = null;
        long worstCount = 0;
        for (NameCount failing : failedAsAsked) {
            String bare = failing.getName();
            if (!failingNow.contains(bare) || !before.containsKey(bare)) {
                continue; // it answered, or it failed in one window only so far
            }
            evidence.add(bare + ". NXDOMAIN x" + failing.getCount());
            for (NameCount candidate : window.getTopNxdomainList()) {
                if (bare.equals(suffixes.base(candidate.getName()))) {
                    evidence.add(candidate.getName() + " NXDOMAIN x" + candidate.getCount());
                }
            }
            if (failing.getCount() > worstCount) {
                worst = bare + ".";
                worstCount = failing.getCount();
            }
        }
        if (worst == null) {
            return;
        }
        state.setLastUnresolvableMs(now);
        double perMinute = worstCount * 60_000.0 / Math.max(1, windowMs);
        insights.raise(InsightKind.UNRESOLVABLE_NAME, now, perMinute, evidence, Advice.unresolvable(insights.subject(),
                SearchList.bare(worst), namespace, worstCount, windowMs / 1000, perMinute), List.of());
    }
}
