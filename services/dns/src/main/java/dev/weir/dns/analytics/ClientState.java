package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.List;
import java.util.function.Consumer;

/**
 * One client's DNS, kept decoded between events ({@link DecodedStore}); {@link #build()} is what
 * the changelog holds. It hands each event and each tick of time to the parts that do the work:
 * the window ({@link ClientWindow}), the queries waiting for an answer ({@link PendingQueries}),
 * the search-path detector, the judges of a closed window (baseline, rate limit, unresolvable
 * names) and the insights' lifecycle ({@link ActiveInsights}), all over the one state record.
 * Every method takes the time it happens at, so the same events give the same results wherever
 * they are replayed.
 */
final class ClientState {

    private final DnsClientState.Builder state;
    private final SearchList searchList;
    private final ActiveInsights insights;
    private final ClientWindow window;
    private final PendingQueries pending;
    private final SearchPathDetector searchPath;
    private final BaselineJudge baseline;
    private final UnresolvableNames unresolvable;

    ClientState(String key, DnsClientState stored, DnsSettings settings) {
        this.state = stored == null ? DnsClientState.newBuilder() : stored.toBuilder();
        this.searchList = new SearchList(settings);
        this.insights = new ActiveInsights(key, state, settings);
        this.window = new ClientWindow(state, settings);
        LookupSteps steps = new LookupSteps(state);
        this.pending = new PendingQueries(state, window, steps, insights, settings);
        this.searchPath = new SearchPathDetector(state, steps, insights, settings);
        this.baseline = new BaselineJudge(state, insights, settings);
        this.unresolvable = new UnresolvableNames(state, searchList, insights, settings);
    }

    /** The state record, as the changelog holds it: the parts kept outside the builder between events written in. */
    DnsClientState build() {
        window.writeTo(state);
        pending.writeTo(state);
        DnsClientState built = state.build();
        // The plain objects stay the truth between events: the builder does not keep a second copy.
        window.clearFrom(state);
        pending.clearFrom(state);
        return built;
    }

    /** Everything one DNS event changes; insights and closed windows go to {@code out}. */
    void on(DnsEvent event, Consumer<Object> out) {
        insights.begin(out);
        try {
            long now = event.getTimeMs();
            advanceTo(now);
            state.setLastEventMs(Math.max(state.getLastEventMs(), now));
            DnsClientStats.Builder counting = window.forEvent(event, now);
            if (event.getDropped()) {
                counting.setDropped(counting.getDropped() + 1);
                blocked(event, now);
            } else if (event.getIsResponse()) {
                long askedAt = pending.answer(event, now);
                window.countResponse(event, counting, askedAt, now, searchList.of(event.getNamespace()));
                searchPath.onResponse(event, counting, now);
            } else {
                window.countQuery(event, counting);
                pending.ask(event, counting, now);
            }
        } finally {
            insights.end();
        }
    }

    /**
     * Time passes without events (wall clock): unanswered queries expire, a finished window is
     * published, and findings that have stayed away long enough are resolved. Returns whether
     * anything changed.
     */
    boolean advance(long now, Consumer<Object> out) {
        insights.begin(out);
        try {
            advanceTo(now);
            return insights.wasChanged();
        } finally {
            insights.end();
        }
    }

    boolean idleSince(long now, long idleMs) {
        return !state.hasWindow() && pending.isEmpty() && state.getActiveCount() == 0
                && now - state.getLastEventMs() > idleMs;
    }

    private void advanceTo(long now) {
        if (pending.expire(now)) {
            insights.changed();
        }
        if (window.endsBy(now)) {
            closeWindow();
            insights.changed();
        }
        insights.resolveQuiet(now);
    }

    /** The window is published, then judged: baseline, rate limit, names that never resolve. */
    private void closeWindow() {
        ClientWindow.Closed closed = window.close();
        insights.emit(closed.stats());
        baseline.judge(closed.stats());
        RateLimits.judge(state, closed.stats(), insights);
        unresolvable.judge(closed);
        window.finish(closed);
    }

    /** DNS the datapath dropped: by policy, that is the default-deny-egress mistake. */
    private void blocked(DnsEvent event, long now) {
        state.setLastBlockedMs(now);
        if (!event.getDropReason().startsWith("POLICY")
                || insights.updatedWithin(InsightKind.BLOCKED_BY_POLICY, now, 1000)) {
            return; // one update a second is plenty for a stream of drops
        }
        String evidence = (event.getOverTcp() ? "TCP " : "UDP ") + event.getClientIp() + ":" + event.getClientPort()
                + " -> " + event.getServerIp() + ":53" + (event.getName().isEmpty() ? "" : " " + event.getName())
                + " DROPPED (" + event.getDropReason() + ")";
        List<String> policies = event.getPoliciesList();
        insights.raise(InsightKind.BLOCKED_BY_POLICY, now, 1, List.of(evidence),
                Advice.blockedByPolicy(insights.subject(), event.getServerIp(), policies), policies);
    }
}
