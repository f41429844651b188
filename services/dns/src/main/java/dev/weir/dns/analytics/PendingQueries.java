package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.dns.v1.PendingQuery;
import java.util.ArrayDeque;
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

    /**
     * A query waiting for its response. The waiting queries and the recently answered ones are
     * kept as plain objects between events, not in the state's builder: they are scanned on every
     * event, and written to the state record only when it is encoded ({@link #writeTo}).
     */
    private static final class Waiting {
        final int id;
        final String name;
        final String qtype;
        final long timeMs;
        final int clientPort;
        boolean twinAnswered;

        Waiting(int id, String name, String qtype, long timeMs, int clientPort, boolean twinAnswered) {
            this.id = id;
            this.name = name;
            this.qtype = qtype;
            this.timeMs = timeMs;
            this.clientPort = clientPort;
            this.twinAnswered = twinAnswered;
        }

        static Waiting of(PendingQuery stored) {
            return new Waiting(stored.getId(), stored.getName(), stored.getQtype(), stored.getTimeMs(),
                    stored.getClientPort(), stored.getTwinAnswered());
        }

        PendingQuery toProto() {
            return PendingQuery.newBuilder().setId(id).setName(name).setQtype(qtype).setTimeMs(timeMs)
                    .setClientPort(clientPort).setTwinAnswered(twinAnswered).build();
        }
    }

    private final DnsClientState.Builder state;
    /** Oldest first. */
    private final List<Waiting> waiting = new ArrayList<>();
    /** Answered A/AAAA queries, oldest first, their times those of the answers. */
    private final ArrayDeque<Waiting> answered = new ArrayDeque<>();
    /** Recent A/AAAA answers and lost pair halves (see {@link #pairRace}). */
    private int recentPairAnswers;
    private int recentPairLosses;
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
        state.getPendingList().forEach(p -> waiting.add(Waiting.of(p)));
        state.getAnsweredRecentlyList().forEach(p -> answered.add(Waiting.of(p)));
        recentPairAnswers = state.getRecentPairAnswers();
        recentPairLosses = state.getRecentPairLosses();
        state.clearPending().clearAnsweredRecently();
    }

    /** Into the state record, before it is encoded. */
    void writeTo(DnsClientState.Builder record) {
        clearFrom(record);
        for (Waiting w : waiting) {
            record.addPending(w.toProto());
        }
        for (Waiting w : answered) {
            record.addAnsweredRecently(w.toProto());
        }
        record.setRecentPairAnswers(recentPairAnswers).setRecentPairLosses(recentPairLosses);
    }

    /** Out of the state record once it is encoded: the queries here are the truth. */
    void clearFrom(DnsClientState.Builder record) {
        record.clearPending().clearAnsweredRecently();
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    /** A query is asked: counted as a retry if it is one, and waited for. */
    void ask(DnsEvent event, DnsClientStats.Builder counting, long now) {
        if (retransmission(event)) {
            counting.setRetransmissions(counting.getRetransmissions() + 1);
        }
        if (waiting.size() >= DnsSettings.MAX_PENDING) {
            waiting.remove(0);
            counting.setUnanswered(counting.getUnanswered() + 1); // cannot wait for it any longer
        }
        waiting.add(new Waiting(event.getId(), event.getName(), event.getQtype(), now, event.getClientPort(),
                twinAnsweredBefore(event, now)));
    }

    /**
     * A response arrives: the time its query was asked, or -1 when no query of this client waits
     * for it. The first waiting query that matches is the one answered (a port of 0 is unknown and
     * matches any).
     */
    long answer(DnsEvent event, long now) {
        for (int i = 0; i < waiting.size(); i++) {
            Waiting pending = waiting.get(i);
            if (pending.id == event.getId() && pending.name.equals(event.getName())
                    && (event.getClientPort() == 0 || pending.clientPort == event.getClientPort())) {
                waiting.remove(i);
                if (twinType(pending.qtype) != null && pending.clientPort != 0) {
                    recentPair(1, 0);
                }
                twinAnswered(pending);
                rememberAnswered(pending, now);
                return pending.timeMs;
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
        if (waiting.isEmpty() || waiting.get(0).timeMs > limit) {
            return false; // the usual case, on every event: nothing to give up on
        }
        List<String> evidence = new ArrayList<>();
        List<String> lostHalves = new ArrayList<>();
        int expired = 0;
        int halves = 0;
        while (expired < waiting.size() && waiting.get(expired).timeMs <= limit) {
            Waiting pending = waiting.get(expired);
            expired++;
            String twin = pending.twinAnswered ? twinType(pending.qtype) : null;
            if (pending.twinAnswered) {
                halves++;
                lostHalves.add(pending.qtype + " " + pending.name + " from port " + pending.clientPort
                        + " unanswered after " + unansweredSeconds + " s; its " + twin + " twin from the same socket was answered");
            }
            evidence.add(pending.qtype + " " + pending.name + " unanswered after " + unansweredSeconds + " s"
                    + (pending.twinAnswered ? " (its " + twin + " twin, from the same socket, was answered)" : ""));
            steps.remember(pending.name, pending.qtype, LookupSteps.UNANSWERED, pending.timeMs);
        }
        waiting.subList(0, expired).clear();
        if (halves > 0) {
            recentPair(0, halves);
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
        // A race loses a packet now and then: the client's recent lost halves are at most half of
        // its recent A/AAAA answers (over its last lookups, not the window a loss expires in, which
        // may have only begun). A resolver (or a firewall) that never answers AAAA loses every
        // pair's AAAA; that is no race, and stays TIMEOUTS.
        if (recentPairLosses * 2 > recentPairAnswers) {
            return;
        }
        state.setLastPairLostMs(now);
        insights.raise(InsightKind.A_AAAA_RACE, now, counting.getPairHalvesLost(), lost,
                Advice.pairRace(insights.subject(), counting.getPairHalvesLost(), unansweredSeconds), List.of());
    }

    /** Counts answers and losses of recent lookups, halving both past 64: recent ones weigh most. */
    private void recentPair(int answers, int losses) {
        recentPairAnswers += answers;
        recentPairLosses += losses;
        if (recentPairAnswers + recentPairLosses > 64) {
            recentPairAnswers /= 2;
            recentPairLosses /= 2;
        }
    }

    /**
     * The same name and type asked again while the first query is unanswered, or just after it was
     * given up on: resolvers retry after their timeout (5 s), so a retry often arrives as the first
     * query is declared unanswered.
     */
    private boolean retransmission(DnsEvent event) {
        for (int i = 0; i < waiting.size(); i++) {
            Waiting pending = waiting.get(i);
            if (pending.name.equals(event.getName()) && pending.qtype.equals(event.getQtype())) {
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
    private void twinAnswered(Waiting answered) {
        String twin = twinType(answered.qtype);
        if (twin == null || answered.clientPort == 0) {
            return;
        }
        // The twin of the same lookup: asked closest in time (a pod repeats its lookups).
        Waiting best = null;
        long bestDistance = 0;
        for (int i = 0; i < waiting.size(); i++) {
            Waiting p = waiting.get(i);
            if (!p.twinAnswered && p.clientPort == answered.clientPort && p.qtype.equals(twin) && p.name.equals(answered.name)) {
                long distance = Math.abs(p.timeMs - answered.timeMs);
                if (best == null || distance < bestDistance) {
                    best = p;
                    bestDistance = distance;
                }
            }
        }
        if (best != null && bestDistance <= TWIN_WITHIN_MS) {
            best.twinAnswered = true;
        }
    }

    private void rememberAnswered(Waiting query, long now) {
        if (twinType(query.qtype) == null || query.clientPort == 0) {
            return;
        }
        while (!answered.isEmpty() && (answered.size() >= ANSWERED_KEPT || now - answered.peekFirst().timeMs > TWIN_WITHIN_MS)) {
            answered.removeFirst();
        }
        answered.addLast(new Waiting(query.id, query.name, query.qtype, now, query.clientPort, query.twinAnswered));
    }

    /** Whether this query's A/AAAA twin, from the same socket, was answered just before it was asked. */
    private boolean twinAnsweredBefore(DnsEvent query, long now) {
        if (query.getClientPort() == 0 || answered.isEmpty()) {
            return false;
        }
        String twin = twinType(query.getQtype());
        if (twin == null) {
            return false;
        }
        for (Waiting a : answered) {
            if (a.clientPort == query.getClientPort() && a.qtype.equals(twin) && a.name.equals(query.getName())
                    && Math.abs(now - a.timeMs) <= TWIN_WITHIN_MS) {
                return true;
            }
        }
        return false;
    }
}
