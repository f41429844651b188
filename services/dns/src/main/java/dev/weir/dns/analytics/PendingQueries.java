package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.dns.v1.PendingQuery;
import java.util.ArrayList;
import java.util.List;

/**
 * A client's queries waiting for their responses: a response is paired with its query (same id
 * and name, from the same port), a query unanswered for unanswered-after expires, and an A/AAAA
 * query remembers whether its twin from the same socket was answered, which tells the conntrack
 * race from a resolver that is down. At most {@link DnsSettings#MAX_PENDING}, oldest first.
 */
final class PendingQueries {

    /** Answered A/AAAA queries kept for their twins asked after the answer: this many, this long. */
    private static final int ANSWERED_KEPT = 8;
    private static final long TWIN_WITHIN_MS = 1000;

    private final DnsClientState.Builder state;
    private final ClientWindow window;
    private final LookupSteps steps;
    private final ActiveInsights insights;
    private final long unansweredMs;
    private final long unansweredSeconds;

    PendingQueries(DnsClientState.Builder state, ClientWindow window, LookupSteps steps, ActiveInsights insights,
            DnsSettings settings) {
        this.state = state;
        this.window = window;
        this.steps = steps;
        this.insights = insights;
        this.unansweredMs = settings.unansweredAfter().toMillis();
        this.unansweredSeconds = settings.unansweredAfter().toSeconds();
    }

    boolean isEmpty() {
        return state.getPendingCount() == 0;
    }

    /** A query is asked: counted as a retry if it is one, and waited for. */
    void ask(DnsEvent event, DnsClientStats.Builder counting, long now) {
        if (retransmission(event)) {
            counting.setRetransmissions(counting.getRetransmissions() + 1);
        }
        if (state.getPendingCount() >= DnsSettings.MAX_PENDING) {
            state.removePending(0);
            counting.setUnanswered(counting.getUnanswered() + 1); // cannot wait for it any longer
        }
        state.addPending(PendingQuery.newBuilder().setId(event.getId()).setName(event.getName())
                .setQtype(event.getQtype()).setTimeMs(now).setClientPort(event.getClientPort())
                .setTwinAnswered(twinAnsweredBefore(event, now)));
    }

    /**
     * A response arrives: the time its query was asked, or -1 when no query of this client waits
     * for it. The first waiting query that matches is the one answered (a port of 0 is unknown and
     * matches any).
     */
    long answer(DnsEvent event, long now) {
        for (int i = 0; i < state.getPendingCount(); i++) {
            PendingQuery pending = state.getPending(i);
            if (pending.getId() == event.getId() && pending.getName().equals(event.getName())
                    && (event.getClientPort() == 0 || pending.getClientPort() == event.getClientPort())) {
                state.removePending(i);
                twinAnswered(pending);
                rememberAnswered(pending, now);
                return pending.getTimeMs();
            }
        }
        return -1;
    }

    /**
     * Queries asked unanswered-after ago or longer are given up on: counted as unanswered in the
     * window, remembered for their retries, and judged (timeouts, lost halves of A/AAAA pairs).
     * Returns whether any expired.
     */
    boolean expire(long now) {
        long limit = now - unansweredMs;
        if (state.getPendingCount() == 0 || state.getPending(0).getTimeMs() > limit) {
            return false; // the usual case, on every event: nothing to give up on
        }
        List<String> evidence = new ArrayList<>();
        List<String> lostHalves = new ArrayList<>();
        int expired = 0;
        int halves = 0;
        while (state.getPendingCount() > 0 && state.getPending(0).getTimeMs() <= limit) {
            PendingQuery pending = state.getPending(0);
            state.removePending(0);
            expired++;
            if (pending.getTwinAnswered()) {
                halves++;
                lostHalves.add(pending.getQtype() + " " + pending.getName() + " from port " + pending.getClientPort()
                        + " unanswered after " + unansweredSeconds + " s; its "
                        + twinType(pending.getQtype()) + " twin from the same socket was answered");
            }
            evidence.add(pending.getQtype() + " " + pending.getName() + " unanswered after " + unansweredSeconds + " s"
                    + (pending.getTwinAnswered() ? " (its " + twinType(pending.getQtype())
                            + " twin, from the same socket, was answered)" : ""));
            steps.remember(pending.getName(), pending.getQtype(), LookupSteps.UNANSWERED, pending.getTimeMs());
        }
        DnsClientStats.Builder counting = window.openAt(now);
        counting.setUnanswered(counting.getUnanswered() + expired);
        counting.setPairHalvesLost(counting.getPairHalvesLost() + halves);
        state.setLastTimeoutMs(now);
        if (halves > 0) {
            pairRace(now, counting, lostHalves);
        }
        long asked = counting.getQueries();
        if (counting.getUnanswered() >= 2 || (asked > 0 && counting.getUnanswered() * 10 >= asked)) {
            insights.raise(InsightKind.TIMEOUTS, now, counting.getUnanswered(), evidence,
                    Advice.timeouts(insights.subject(), counting.getUnanswered(), unansweredSeconds,
                            counting.getRetransmissions()), List.of());
        }
        return true;
    }

    /**
     * The A/AAAA race: glibc sends both queries of a lookup at once from one socket; on a node
     * whose conntrack drops one of two UDP packets racing to be inserted, one is answered and its
     * twin never is, and the lookup waits out the resolver's timeout (5 s by default).
     */
    private void pairRace(long now, DnsClientStats.Builder counting, List<String> lost) {
        // As for timeouts: two in a window, or a tenth of its queries (one lost packet is not a race).
        if (counting.getPairHalvesLost() < 2 && counting.getPairHalvesLost() * 10 < counting.getQueries()) {
            return;
        }
        state.setLastPairLostMs(now);
        insights.raise(InsightKind.A_AAAA_RACE, now, counting.getPairHalvesLost(), lost,
                Advice.pairRace(insights.subject(), counting.getPairHalvesLost(), unansweredSeconds), List.of());
    }

    /**
     * The same name and type asked again while the first query is unanswered, or just after it was
     * given up on: resolvers retry after their timeout (5 s), so a retry often arrives as the first
     * query is declared unanswered.
     */
    private boolean retransmission(DnsEvent event) {
        for (int i = 0; i < state.getPendingCount(); i++) {
            PendingQuery pending = state.getPending(i);
            if (pending.getName().equals(event.getName()) && pending.getQtype().equals(event.getQtype())) {
                return true;
            }
        }
        return steps.takeUnanswered(event.getName(), event.getQtype(), event.getTimeMs(), 2 * unansweredMs);
    }

    /** The other query type of an A/AAAA pair. */
    private static String twinType(String qtype) {
        return "A".equals(qtype) ? "AAAA" : "AAAA".equals(qtype) ? "A" : null;
    }

    /** An answered query's A/AAAA twin from the same socket, still waiting, learns that its twin was answered. */
    private void twinAnswered(PendingQuery answered) {
        String twin = twinType(answered.getQtype());
        if (twin == null || answered.getClientPort() == 0) {
            return;
        }
        // The twin of the same lookup: asked closest in time (a pod repeats its lookups).
        int best = -1;
        long bestDistance = 0;
        for (int i = 0; i < state.getPendingCount(); i++) {
            PendingQuery p = state.getPending(i);
            if (!p.getTwinAnswered() && p.getClientPort() == answered.getClientPort() && p.getQtype().equals(twin)
                    && p.getName().equals(answered.getName())) {
                long distance = Math.abs(p.getTimeMs() - answered.getTimeMs());
                if (best < 0 || distance < bestDistance) {
                    best = i;
                    bestDistance = distance;
                }
            }
        }
        if (best >= 0 && bestDistance <= TWIN_WITHIN_MS) {
            state.setPending(best, state.getPending(best).toBuilder().setTwinAnswered(true));
        }
    }

    private void rememberAnswered(PendingQuery answered, long now) {
        if (twinType(answered.getQtype()) == null || answered.getClientPort() == 0) {
            return;
        }
        while (state.getAnsweredRecentlyCount() > 0 && (state.getAnsweredRecentlyCount() >= ANSWERED_KEPT
                || now - state.getAnsweredRecently(0).getTimeMs() > TWIN_WITHIN_MS)) {
            state.removeAnsweredRecently(0);
        }
        state.addAnsweredRecently(answered.toBuilder().setTimeMs(now));
    }

    /** Whether this query's A/AAAA twin, from the same socket, was answered just before it was asked. */
    private boolean twinAnsweredBefore(DnsEvent query, long now) {
        if (query.getClientPort() == 0 || state.getAnsweredRecentlyCount() == 0) {
            return false;
        }
        String twin = twinType(query.getQtype());
        if (twin == null) {
            return false;
        }
        for (int i = 0; i < state.getAnsweredRecentlyCount(); i++) {
            PendingQuery answered = state.getAnsweredRecently(i);
            if (answered.getClientPort() == query.getClientPort() && answered.getQtype().equals(twin)
                    && answered.getName().equals(query.getName()) && Math.abs(now - answered.getTimeMs()) <= TWIN_WITHIN_MS) {
                return true;
            }
        }
        return false;
    }
}
