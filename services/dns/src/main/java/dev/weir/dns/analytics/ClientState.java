package dev.weir.dns.analytics;

import dev.weir.common.dns.DnsWindowMeasures;
import dev.weir.common.dns.LatencyHistogram;
import dev.weir.proto.dns.v1.Baseline;
import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.dns.v1.LookupStep;
import dev.weir.proto.dns.v1.NameCount;
import dev.weir.proto.dns.v1.PendingQuery;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One client's DNS: the counters of its current window, its unanswered queries, the recent
 * lookups the search-path detector reads, its baseline, and its active insights. Kept decoded
 * between events ({@link DecodedStore}); {@link #build()} is what the changelog holds. Every
 * method takes the time it happens at, so the same events give the same results wherever they
 * are replayed.
 */
final class ClientState {

    /** A recent step that marks a query given up on (no rcode is this large). */
    private static final int UNANSWERED = 0xffff;

    private final String key;
    private final DnsSettings settings;
    private final DnsClientState.Builder state;
    private final WindowNames names;
    /** Where the call being handled sends its insights and closed windows. */
    private Consumer<Object> out = NOWHERE;
    /** Whether the call being handled changed the state. */
    private boolean changed;
    private List<String> suffixes;
    private String suffixesOf;

    ClientState(String key, DnsClientState stored, DnsSettings settings) {
        this.key = key;
        this.settings = settings;
        this.state = stored == null ? DnsClientState.newBuilder() : stored.toBuilder();
        this.names = new WindowNames(state);
    }

    DnsClientState build() {
        return state.build();
    }

    /** Everything one DNS event changes; insights and closed windows go to {@code out}. */
    void on(DnsEvent event, Consumer<Object> out) {
        this.out = out;
        try {
            handle(event);
        } finally {
            this.out = NOWHERE; // the sink holds the record and the context: not kept with the state
        }
    }

    private static final Consumer<Object> NOWHERE = o -> { };

    private void handle(DnsEvent event) {
        long now = event.getTimeMs();
        advanceTo(now);
        state.setLastEventMs(Math.max(state.getLastEventMs(), now));
        DnsClientStats.Builder window = window(event, now);
        if (event.getDropped()) {
            window.setDropped(window.getDropped() + 1);
            blocked(event, now);
        } else if (event.getIsResponse()) {
            response(event, window, now);
        } else {
            query(event, window, now);
        }
    }

    /**
     * Time passes without events (wall clock): unanswered queries expire, a finished window is
     * published, and findings that have stayed away long enough are resolved. Returns whether
     * anything changed.
     */
    boolean advance(long now, Consumer<Object> out) {
        this.out = out;
        changed = false;
        try {
            advanceTo(now);
        } finally {
            this.out = NOWHERE;
        }
        return changed;
    }

    private void advanceTo(long now) {
        expirePending(now);
        // OrBuilder: the window is being counted in its builder; getWindow() would build a copy per event.
        if (state.hasWindow() && now >= Insights.ms(state.getWindowOrBuilder().getWindowEnd())) {
            closeWindow();
            changed = true;
        }
        resolveQuietFindings(now);
    }

    boolean idleSince(long now, long idleMs) {
        return !state.hasWindow() && state.getPendingCount() == 0 && state.getActiveCount() == 0
                && now - state.getLastEventMs() > idleMs;
    }

    private DnsClientStats.Builder window(DnsEvent event, long now) {
        openWindow(now);
        DnsClientStats.Builder window = state.getWindowBuilder();
        if (!window.getClientIp().equals(event.getClientIp()) || !window.getPodName().equals(event.getPodName())
                || !window.getNodeName().equals(event.getNodeName()) || !window.getNamespace().equals(event.getNamespace())
                || !window.getWorkload().equals(event.getWorkload())) {
            window.setNamespace(event.getNamespace()).setPodName(event.getPodName()).setWorkload(event.getWorkload())
                    .setNodeName(event.getNodeName()).setClientIp(event.getClientIp());
            state.setIdentity(DnsClientStats.newBuilder().setNamespace(event.getNamespace())
                    .setPodName(event.getPodName()).setWorkload(event.getWorkload()).setNodeName(event.getNodeName())
                    .setClientIp(event.getClientIp()));
        }
        return window;
    }

    /**
     * Opens the window an event at {@code now} belongs to, aligned to the window length; an event
     * late for a window already published (a backlog after a takeover) counts in the next one.
     */
    private void openWindow(long now) {
        if (state.hasWindow()) {
            return;
        }
        long length = settings.window().toMillis();
        long start = Math.max(Math.floorDiv(now, length) * length, state.getLastWindowEndMs());
        DnsClientStats identity = state.getIdentity();
        state.setWindow(DnsClientStats.newBuilder().setWindowStart(Insights.time(start))
                .setWindowEnd(Insights.time(start + length)).setNamespace(identity.getNamespace())
                .setPodName(identity.getPodName()).setWorkload(identity.getWorkload())
                .setNodeName(identity.getNodeName()).setClientIp(identity.getClientIp()));
    }

    private void query(DnsEvent event, DnsClientStats.Builder window, long now) {
        window.setQueries(window.getQueries() + 1);
        if (!event.getQtype().isEmpty()) {
            window.putQtypes(event.getQtype(), window.getQtypesOrDefault(event.getQtype(), 0) + 1);
        }
        if (event.getOverTcp()) {
            window.setOverTcp(window.getOverTcp() + 1);
        }
        names.count(WindowNames.Kind.ASKED, event.getName());
        if (retransmission(event)) {
            window.setRetransmissions(window.getRetransmissions() + 1);
        }
        if (state.getPendingCount() >= DnsSettings.MAX_PENDING) {
            state.removePending(0);
            window.setUnanswered(window.getUnanswered() + 1); // cannot wait for it any longer
        }
        state.addPending(PendingQuery.newBuilder().setId(event.getId()).setName(event.getName())
                .setQtype(event.getQtype()).setTimeMs(now).setClientPort(event.getClientPort())
                .setTwinAnswered(twinAnsweredBefore(event, now)));
    }

    /**
     * The same name and type asked again while the first query is unanswered, or just after it was
     * given up on: resolvers retry after their timeout (5 s), so a retry often arrives as the first
     * query is declared unanswered.
     */
    private boolean retransmission(DnsEvent event) {
        for (PendingQuery pending : state.getPendingList()) {
            if (pending.getName().equals(event.getName()) && pending.getQtype().equals(event.getQtype())) {
                return true;
            }
        }
        for (int i = state.getRecentCount() - 1; i >= 0; i--) {
            LookupStep step = state.getRecent(i);
            if (step.getRcode() == UNANSWERED && step.getName().equals(event.getName())
                    && step.getQtype().equals(event.getQtype())
                    && event.getTimeMs() - step.getTimeMs() <= 2 * settings.unansweredAfter().toMillis()) {
                state.removeRecent(i);
                return true;
            }
        }
        return false;
    }

    private void remember(LookupStep.Builder step) {
        if (state.getRecentCount() >= DnsSettings.MAX_RECENT) {
            state.removeRecent(0);
        }
        state.addRecent(step);
    }

    private void response(DnsEvent event, DnsClientStats.Builder window, long now) {
        String rcode = Rcodes.name(event.getRcode());
        window.putResponses(rcode, window.getResponsesOrDefault(rcode, 0) + 1);
        if (event.getTruncated()) {
            window.setTruncated(window.getTruncated() + 1);
        }
        long askedAt = -1;
        for (int i = 0; i < state.getPendingCount(); i++) {
            PendingQuery pending = state.getPending(i);
            if (pending.getId() == event.getId() && pending.getName().equals(event.getName())
                    && (event.getClientPort() == 0 || pending.getClientPort() == event.getClientPort())) {
                askedAt = pending.getTimeMs();
                state.removePending(i);
                twinAnswered(pending);
                rememberAnswered(pending, now);
                break;
            }
        }
        if (askedAt >= 0) {
            RateLimits.count(state, window, event.getRcode(), now); // answers to queries this client asked only
        }
        double latencyMs = event.getLatencyUs() > 0 ? event.getLatencyUs() / 1000.0 : askedAt >= 0 ? now - askedAt : -1;
        if (latencyMs >= 0) {
            int bucket = LatencyHistogram.bucket(latencyMs);
            while (state.getLatencyBucketsCount() <= bucket) {
                state.addLatencyBuckets(0);
            }
            state.setLatencyBuckets(bucket, state.getLatencyBuckets(bucket) + 1);
        }
        if (event.getRcode() == Rcodes.NXDOMAIN) {
            names.count(WindowNames.Kind.NXDOMAIN, event.getName());
        }
        // For names that never resolve: which names failed as asked, which answered (as every name
        // the answer's could have been asked as: cart.shop.svc.cluster.local. answers cart, cart.shop, ...).
        List<String> suffixes = suffixes(event.getNamespace());
        if (event.getRcode() == Rcodes.NXDOMAIN && base(event.getName(), suffixes) == null) {
            names.count(WindowNames.Kind.FAILED_AS_ASKED, bare(event.getName()));
        } else if (event.getRcode() == Rcodes.NOERROR) {
            names.count(WindowNames.Kind.RESOLVED, bare(event.getName()));
            for (String asked : bases(event.getName(), suffixes)) {
                names.count(WindowNames.Kind.RESOLVED, asked);
            }
        }
        searchPath(event, window, now);
    }

    /**
     * Search-path expansion (ndots): a name that resolves after candidates made of it plus a
     * search suffix were answered NXDOMAIN. The candidates are the wasted queries; the factor is
     * queries sent per answer needed.
     */
    private void searchPath(DnsEvent event, DnsClientStats.Builder window, long now) {
        long horizon = now - settings.unansweredAfter().toMillis() * 2;
        while (state.getRecentCount() > 0 && state.getRecent(0).getTimeMs() < horizon) {
            state.removeRecent(0);
        }
        if (event.getRcode() == Rcodes.NXDOMAIN) {
            remember(LookupStep.newBuilder().setName(event.getName()).setQtype(event.getQtype())
                    .setRcode(event.getRcode()).setTimeMs(now));
            return;
        }
        if (event.getRcode() != Rcodes.NOERROR) {
            return;
        }
        String name = event.getName();
        String prefix = name.endsWith(".") ? name : name + ".";
        List<String> evidence = new ArrayList<>();
        java.util.Set<String> qtypes = new java.util.TreeSet<>();
        boolean chained = false;
        for (int i = state.getRecentCount() - 1; i >= 0; i--) {
            LookupStep step = state.getRecent(i);
            if (step.getRcode() == Rcodes.NXDOMAIN && candidateOf(step.getName(), prefix)) {
                evidence.add(0, step.getQtype() + " " + step.getName() + " NXDOMAIN");
                qtypes.add(step.getQtype());
                state.removeRecent(i);
            } else if (step.getRcode() == Rcodes.NOERROR && step.getName().equals(name)) {
                chained = true; // the other query type of the same expanded lookup, counted with it
            }
        }
        if (evidence.isEmpty()) {
            if (!chained) {
                state.setLastDirectLookupMs(now);
            }
            return;
        }
        // One answer was needed per query type the candidates were asked with (A and AAAA: two).
        window.setSearchPathWasted(window.getSearchPathWasted() + evidence.size());
        window.setSearchPathLookups(window.getSearchPathLookups() + Math.max(1, qtypes.size()));
        remember(LookupStep.newBuilder().setName(name).setQtype(event.getQtype()).setRcode(Rcodes.NOERROR)
                .setTimeMs(now));
        state.setLastSearchPathMs(now);
        evidence.add(event.getQtype() + " " + name + " NOERROR");
        double factor = (double) (window.getSearchPathWasted() + window.getSearchPathLookups()) / window.getSearchPathLookups();
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        raise(InsightKind.SEARCH_PATH_EXPANSION, now, factor, evidence, String.format(java.util.Locale.ROOT,
                "%s resolves %s only after %d search-path candidates answered NXDOMAIN: %.1f queries per answer "
                        + "(%d wasted queries in this window)", subject(), name, evidence.size() - 1, factor,
                window.getSearchPathWasted()),
                "Look the name up fully qualified, with a trailing dot (" + bare + ".), or lower ndots in the pod's "
                        + "dnsConfig (options: [{name: ndots, value: \"1\"}]) so names with dots are tried as they are "
                        + "first; NodeLocal DNSCache takes the load off CoreDNS meanwhile.", List.of());
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
        String[] c = labels(candidate);
        String[] r = labels(resolved);
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

    /** DNS the datapath dropped: by policy, that is the default-deny-egress mistake. */
    private void blocked(DnsEvent event, long now) {
        state.setLastBlockedMs(now);
        if (!event.getDropReason().startsWith("POLICY")) {
            return;
        }
        String evidence = (event.getOverTcp() ? "TCP " : "UDP ") + event.getClientIp() + ":" + event.getClientPort()
                + " -> " + event.getServerIp() + ":53" + (event.getName().isEmpty() ? "" : " " + event.getName())
                + " DROPPED (" + event.getDropReason() + ")";
        List<String> policies = event.getPoliciesList();
        raise(InsightKind.BLOCKED_BY_POLICY, now, 1, List.of(evidence),
                subject() + "'s DNS queries to " + event.getServerIp() + " are dropped by policy"
                        + (policies.isEmpty() ? "" : " (" + String.join(", ", policies) + ")")
                        + ": its name lookups will time out",
                "Allow egress to the cluster DNS service on UDP and TCP port 53 in "
                        + (policies.isEmpty() ? "the policy that isolates the pod's egress" : String.join(", ", policies))
                        + ", e.g. an egress rule to {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
                        + "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}} with ports 53/UDP and 53/TCP.",
                policies);
    }

    private void expirePending(long now) {
        if (state.getPendingCount() == 0) {
            return;
        }
        long limit = now - settings.unansweredAfter().toMillis();
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
                        + " unanswered after " + settings.unansweredAfter().toSeconds() + " s; its "
                        + twinType(pending.getQtype()) + " twin from the same socket was answered");
            }
            evidence.add(pending.getQtype() + " " + pending.getName() + " unanswered after "
                    + settings.unansweredAfter().toSeconds() + " s" + pairNote(pending));
            remember(LookupStep.newBuilder().setName(pending.getName()).setQtype(pending.getQtype())
                    .setRcode(UNANSWERED).setTimeMs(pending.getTimeMs()));
        }
        if (expired == 0) {
            return;
        }
        changed = true;
        openWindow(now);
        DnsClientStats.Builder window = state.getWindowBuilder();
        window.setUnanswered(window.getUnanswered() + expired);
        window.setPairHalvesLost(window.getPairHalvesLost() + halves);
        state.setLastTimeoutMs(now);
        if (halves > 0) {
            pairRace(now, window, lostHalves);
        }
        long asked = window.getQueries();
        if (window.getUnanswered() >= 2 || (asked > 0 && window.getUnanswered() * 10 >= asked)) {
            raise(InsightKind.TIMEOUTS, now, window.getUnanswered(), evidence, String.format(java.util.Locale.ROOT,
                    "%s had %d DNS queries unanswered for %d s in this window%s", subject(), window.getUnanswered(),
                    settings.unansweredAfter().toSeconds(), window.getRetransmissions() > 0
                            ? " and re-sent " + window.getRetransmissions() : ""),
                    "Unanswered A/AAAA pairs sent from one socket are the conntrack insertion race: set "
                            + "dnsConfig options single-request-reopen (glibc) or use NodeLocal DNSCache (TCP to the "
                            + "upstream); otherwise check that CoreDNS is not overloaded or throttled upstream.",
                    List.of());
        }
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
        for (int i = 0; i < state.getPendingCount(); i++) {
            PendingQuery p = state.getPending(i);
            if (!p.getTwinAnswered() && p.getClientPort() == answered.getClientPort() && p.getQtype().equals(twin)
                    && p.getName().equals(answered.getName()) && (best < 0
                    || Math.abs(p.getTimeMs() - answered.getTimeMs())
                            < Math.abs(state.getPending(best).getTimeMs() - answered.getTimeMs()))) {
                best = i;
            }
        }
        if (best >= 0 && Math.abs(state.getPending(best).getTimeMs() - answered.getTimeMs()) <= TWIN_WITHIN_MS) {
            state.setPending(best, state.getPending(best).toBuilder().setTwinAnswered(true));
        }
    }

    /** Answered A/AAAA queries kept for their twins asked after the answer: this many, this long. */
    private static final int ANSWERED_KEPT = 8;
    private static final long TWIN_WITHIN_MS = 1000;

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
        String twin = twinType(query.getQtype());
        if (twin == null || query.getClientPort() == 0) {
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

    private static String pairNote(PendingQuery pending) {
        return pending.getTwinAnswered() ? " (its " + twinType(pending.getQtype()) + " twin, from the same socket, was answered)"
                : "";
    }

    /**
     * The A/AAAA race: glibc sends both queries of a lookup at once from one socket; on a node
     * whose conntrack drops one of two UDP packets racing to be inserted, one is answered and its
     * twin never is, and the lookup waits out the resolver's timeout (5 s by default).
     */
    private void pairRace(long now, DnsClientStats.Builder window, List<String> lost) {
        // As for timeouts: two in a window, or a tenth of its queries (one lost packet is not a race).
        if (window.getPairHalvesLost() < 2 && window.getPairHalvesLost() * 10 < window.getQueries()) {
            return;
        }
        state.setLastPairLostMs(now);
        raise(InsightKind.A_AAAA_RACE, now, window.getPairHalvesLost(), lost, String.format(java.util.Locale.ROOT,
                "%s lost one query of %d A/AAAA pairs sent from one socket in this window (the twin was answered): "
                        + "each lookup waits out the resolver's timeout (%d s here) before it retries",
                subject(), window.getPairHalvesLost(), settings.unansweredAfter().toSeconds()),
                "This is the conntrack race of parallel A and AAAA queries from one socket. Set dnsConfig options "
                        + "single-request-reopen (glibc: a new socket for the second query) or use-vc (TCP), or run "
                        + "NodeLocal DNSCache (no conntrack entry on the way to the cache); fewer search domains (a "
                        + "lower ndots, trailing dots) mean fewer pairs to lose.",
                List.of());
    }

    /** A rate limit: bursts in which some lookups were answered and the rest refused. */
    private void rateLimited(DnsClientStats window, long now) {
        if (!RateLimits.limited(window)) {
            return;
        }
        state.setLastRateLimitedMs(now);
        long refused = RateLimits.refusals(window);
        raise(InsightKind.RATE_LIMITED, now, window.getLimitPerSecond(), List.of(String.format(java.util.Locale.ROOT,
                "%d REFUSED and %d SERVFAIL of %d answers; in %d second(s) some queries were answered (at most %d in "
                        + "one) while the rest were refused", window.getResponsesOrDefault("REFUSED", 0),
                window.getResponsesOrDefault("SERVFAIL", 0), dev.weir.common.dns.DnsWindowMeasures.responses(window),
                window.getLimitedSeconds(), window.getLimitPerSecond())), String.format(java.util.Locale.ROOT,
                "%s's resolver refuses its lookups in bursts: %d refused in this window, while at most %d a second were "
                        + "answered: a rate limit of about %d queries a second", subject(), refused,
                window.getLimitPerSecond(), window.getLimitPerSecond()),
                "Send fewer queries: NodeLocal DNSCache answers repeated lookups on the node, and trailing dots or a "
                        + "lower ndots stop each name costing its whole search path. Or raise the resolver's limit (a "
                        + "response rate limit in dnsmasq or BIND, a cloud resolver's per-interface packet limit).",
                List.of());
    }

    private void closeWindow() {
        DnsClientStats.Builder window = state.getWindowBuilder();
        RateLimits.closeSecond(state, window);
        List<Integer> latencies = state.getLatencyBucketsList();
        window.setLatencyP50Ms(LatencyHistogram.percentile(latencies, 0.50))
                .setLatencyP95Ms(LatencyHistogram.percentile(latencies, 0.95))
                .setLatencyP99Ms(LatencyHistogram.percentile(latencies, 0.99)).addAllLatencyBuckets(latencies);
        window.addAllTopNames(names.top(WindowNames.Kind.ASKED, DnsSettings.TOP));
        window.addAllTopNxdomain(names.top(WindowNames.Kind.NXDOMAIN, DnsSettings.TOP));
        List<NameCount> failedAsAsked = names.top(WindowNames.Kind.FAILED_AS_ASKED, DnsSettings.TOP);
        java.util.Set<String> resolved = new java.util.HashSet<>(names.all(WindowNames.Kind.RESOLVED));
        names.clear();
        DnsClientStats closed = window.build();
        out.accept(closed);
        judgeAgainstBaseline(closed);
        rateLimited(closed, Insights.ms(closed.getWindowEnd()));
        unresolvable(closed, failedAsAsked, resolved, Insights.ms(closed.getWindowEnd()));
        state.setLastWindowEndMs(Insights.ms(closed.getWindowEnd()));
        state.clearWindow().clearLatencyBuckets();
    }

    /** Failures of one name as asked, in each of two windows in a row, that make it a name that does not resolve. */
    static final int UNRESOLVABLE_AFTER = 1;

    /**
     * Names the pod asks for that never resolve: a name asked as it is (the last query of a lookup,
     * after the search-path candidates) answered NXDOMAIN in this window and in an earlier one within
     * resolve-after, and neither it nor a candidate of it answered in this one (one lookup, its A
     * and AAAA, is not "keeps asking"). The likely cause follows from its shape:
     * one label is a Service the pod's namespace does not have (a typo, one in another namespace,
     * a removed one), two a Service by namespace that does not exist, longer a record upstream.
     */
    private void unresolvable(DnsClientStats window, List<NameCount> failedAsAsked, java.util.Set<String> resolved,
            long now) {
        String namespace = window.getNamespace();
        List<String> suffixes = suffixes(namespace);
        List<String> evidence = new ArrayList<>();
        String worst = null;
        long worstCount = 0;
        List<String> failingNow = new ArrayList<>();
        for (NameCount failing : failedAsAsked) {
            if (failing.getCount() >= UNRESOLVABLE_AFTER && !resolved.contains(failing.getName())) {
                failingNow.add(failing.getName());
            }
        }
        // Names that failed in an earlier window within resolve-after (not necessarily the last:
        // a pod that asks every 15 s has windows without the lookup).
        long horizon = now - settings.resolveAfter().toMillis();
        java.util.Map<String, Long> before = new java.util.LinkedHashMap<>();
        for (int i = 0; i < state.getFailingNamesCount() && i < state.getFailingAtMsCount(); i++) {
            if (state.getFailingAtMs(i) >= horizon && state.getFailingAtMs(i) < now) {
                before.put(state.getFailingNames(i), state.getFailingAtMs(i));
            }
        }
        java.util.Map<String, Long> remembered = new java.util.LinkedHashMap<>(before);
        failingNow.forEach(name -> remembered.put(name, now));
        state.clearFailingNames().clearFailingAtMs();
        remembered.entrySet().stream().sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(DnsSettings.TOP * 2L).forEach(e -> {
                    state.addFailingNames(e.getKey());
                    state.addFailingAtMs(e.getValue());
                });
        for (NameCount failing : failedAsAsked) {
            String bare = failing.getName();
            if (!failingNow.contains(bare) || !before.containsKey(bare)) {
                continue; // it answered, or it failed in one window only so far
            }
            evidence.add(bare + ". NXDOMAIN x" + failing.getCount());
            for (NameCount candidate : window.getTopNxdomainList()) {
                if (bare.equals(base(candidate.getName(), suffixes))) {
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
        double perMinute = worstCount * 60_000.0 / Math.max(1, settings.window().toMillis());
        String bare = bare(worst);
        String[] labels = bare.split("\\.");
        String cause = labels.length == 1
                ? "no Service '" + bare + "' in namespace " + (namespace.isEmpty() ? "(none)" : namespace)
                        + ": a misspelt name, a Service in another namespace (ask for " + bare
                        + ".<namespace>), or one that was removed"
                : labels.length == 2
                        ? "no Service '" + labels[0] + "' in namespace '" + labels[1] + "': a misspelt name or namespace, or a "
                                + "Service that was removed"
                        : "the name does not exist upstream: a misspelt name, or a record that was removed";
        raise(InsightKind.UNRESOLVABLE_NAME, now, perMinute, evidence, String.format(java.util.Locale.ROOT,
                "%s keeps asking for %s, which never resolves: %d NXDOMAIN in the last %d s (%.1f a minute); likely %s",
                subject(), bare, worstCount, settings.window().toSeconds(), perMinute, cause),
                "Correct the name in the pod's configuration (or create the Service it expects); a name in another "
                        + "namespace is <service>.<namespace>. Until then every lookup costs the whole search path.",
                List.of());
    }

    /** The pod's search list, built once per namespace it is seen in (a client keeps its namespace). */
    private List<String> suffixes(String namespace) {
        if (suffixes == null || !namespace.equals(suffixesOf)) {
            suffixes = settings.searchSuffixes(namespace);
            suffixesOf = namespace;
        }
        return suffixes;
    }

    /** Every name the given one could have been asked as: it without each search suffix it ends in. */
    static List<String> bases(String name, List<String> suffixes) {
        String dotted = bare(name) + ".";
        List<String> bases = new ArrayList<>(suffixes.size());
        for (String suffix : suffixes) {
            if (dotted.endsWith("." + suffix) && dotted.length() > suffix.length() + 1) {
                bases.add(dotted.substring(0, dotted.length() - suffix.length() - 1));
            }
        }
        return bases;
    }

    /** The name without the search suffix that made it (null when it has none: asked as it is). */
    static String base(String name, List<String> suffixes) {
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        String dotted = lower.endsWith(".") ? lower : lower + ".";
        for (String suffix : suffixes) {
            if (dotted.endsWith("." + suffix) && dotted.length() > suffix.length() + 1) {
                return dotted.substring(0, dotted.length() - suffix.length() - 1);
            }
        }
        return null;
    }

    private static String bare(String name) {
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }


    /** NXDOMAIN spikes and high latency, against the client's own past windows. */
    private void judgeAgainstBaseline(DnsClientStats window) {
        long responses = DnsWindowMeasures.responses(window);
        long now = Insights.ms(window.getWindowEnd());
        if (responses < settings.minResponses()) {
            return;
        }
        // Search-path candidates are expected NXDOMAINs with their own insight: not a spike.
        double nxRatio = DnsWindowMeasures.nxdomainRatio(window);
        double p95 = window.getLatencyP95Ms();
        Baseline baseline = state.getBaseline();
        if (baseline.getWindows() >= 3) {
            if (nxRatio >= 0.2 && nxRatio > baseline.getNxdomainRatio() * 3) {
                raise(InsightKind.NXDOMAIN_SPIKE, now, nxRatio, window.getTopNxdomainList().stream()
                        .map(n -> n.getName() + " NXDOMAIN x" + n.getCount()).toList(), String.format(java.util.Locale.ROOT,
                        "%s: %.0f%% of DNS answers were NXDOMAIN, against %.0f%% normally", subject(), nxRatio * 100,
                        baseline.getNxdomainRatio() * 100),
                        "Check the names it asks for (top NXDOMAIN names in the evidence): a misspelt service, a "
                                + "deleted Service or a wrong namespace in a client's configuration.", List.of());
            } else {
                quiet(InsightKind.NXDOMAIN_SPIKE, now);
            }
            if (p95 >= 20 && p95 > baseline.getLatencyP95Ms() * 3) {
                raise(InsightKind.HIGH_LATENCY, now, p95, window.getTopNamesList().stream()
                        .map(n -> n.getName() + " x" + n.getCount()).toList(), String.format(java.util.Locale.ROOT,
                        "%s: DNS p95 latency %.1f ms, against %.1f ms normally", subject(), p95,
                        baseline.getLatencyP95Ms()),
                        "Look at CoreDNS's CPU and its upstream's latency; NodeLocal DNSCache answers repeated "
                                + "lookups on the node.", List.of());
            } else {
                quiet(InsightKind.HIGH_LATENCY, now);
            }
        }
        // Learn the baseline from windows that are not themselves anomalous.
        if (active(InsightKind.NXDOMAIN_SPIKE).isEmpty() && active(InsightKind.HIGH_LATENCY).isEmpty()) {
            double weight = baseline.getWindows() == 0 ? 1 : 0.2;
            state.setBaseline(Baseline.newBuilder().setWindows(baseline.getWindows() + 1)
                    .setNxdomainRatio(baseline.getNxdomainRatio() * (1 - weight) + nxRatio * weight)
                    .setLatencyP95Ms(baseline.getLatencyP95Ms() * (1 - weight) + p95 * weight));
        }
    }

    private void resolveQuietFindings(long now) {
        if (state.getActiveCount() == 0) {
            return; // the usual case, on every event: nothing to resolve
        }
        long after = settings.resolveAfter().toMillis();
        quietSince(InsightKind.SEARCH_PATH_EXPANSION, now, state.getLastSearchPathMs(), after,
                state.getLastDirectLookupMs() > state.getLastSearchPathMs());
        quietSince(InsightKind.BLOCKED_BY_POLICY, now, state.getLastBlockedMs(), after, true);
        quietSince(InsightKind.TIMEOUTS, now, state.getLastTimeoutMs(), after, true);
        quietSince(InsightKind.UNRESOLVABLE_NAME, now, state.getLastUnresolvableMs(), after, true);
        quietSince(InsightKind.RATE_LIMITED, now, state.getLastRateLimitedMs(), after, true);
        quietSince(InsightKind.A_AAAA_RACE, now, state.getLastPairLostMs(), after, true);
    }

    private void quietSince(InsightKind kind, long now, long lastSeen, long after, boolean evidenceOfHealth) {
        if (evidenceOfHealth && now - lastSeen >= after) {
            quiet(kind, now);
        }
    }

    private void raise(InsightKind kind, long now, double value, List<String> evidence, String summary, String fix,
            List<String> policies) {
        Optional<DnsInsight> active = active(kind);
        DnsInsight.Builder insight;
        if (active.isPresent()) {
            insight = active.get().toBuilder().setTime(Insights.time(now)).setWindowEnd(Insights.time(now));
            if (kind == InsightKind.BLOCKED_BY_POLICY && Insights.ms(active.get().getTime()) > now - 1000) {
                return; // one update per second is plenty for a stream of drops
            }
            insight.clearEvidence();
        } else {
            insight = Insights.finding(key, kind, now, now);
        }
        DnsClientStats.Builder window = state.getWindowBuilder();
        insight.setNamespace(window.getNamespace()).setPodName(window.getPodName()).setNodeName(window.getNodeName())
                .setWorkload(window.getWorkload()).setSummary(summary).setSuggestedFix(fix).setValue(value)
                .addAllEvidence(Insights.bounded(evidence)).clearPolicies().addAllPolicies(policies);
        DnsInsight built = insight.build();
        replaceActive(kind, built);
        out.accept(built);
    }

    private void quiet(InsightKind kind, long now) {
        Optional<DnsInsight> active = active(kind);
        if (active.isPresent()) {
            replaceActive(kind, null);
            changed = true;
            out.accept(Insights.resolved(active.get(), now));
        }
    }

    private Optional<DnsInsight> active(InsightKind kind) {
        return state.getActiveList().stream().filter(i -> i.getKind() == kind).findFirst();
    }

    private void replaceActive(InsightKind kind, DnsInsight insight) {
        for (int i = 0; i < state.getActiveCount(); i++) {
            if (state.getActive(i).getKind() == kind) {
                state.removeActive(i);
                break;
            }
        }
        if (insight != null) {
            state.addActive(insight);
        }
    }

    private String subject() {
        DnsClientStats.Builder window = state.getWindowBuilder();
        return window.getNamespace().isEmpty() ? "client " + window.getClientIp()
                : "pod " + window.getNamespace() + "/" + window.getPodName();
    }
}
