package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.DnsNodeState;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * SERVFAIL storms and upstream throttling: per node (the stream of client windows is keyed by
 * node), a window in which at least two clients, and at least half of the clients that asked
 * anything, saw SERVFAIL or unanswered queries for a fifth of their queries or more. One client
 * failing is that client's problem; many at once is the node's resolver or its upstream.
 */
final class NodeAnalyzer extends ContextualProcessor<String, DnsClientStats, String, Object> {

    static final String NAME = "analyze-nodes";
    static final String STORE = "dns-nodes";
    static final String INSIGHTS = "node-insights";
    private static final int MIN_QUERIES = 5;

    /** A node with no active finding and no window for this long is forgotten. */
    private static final long FORGET_AFTER_MS = java.time.Duration.ofMinutes(10).toMillis();

    private final long quietAfterMs;
    private KeyValueStore<String, DnsNodeState> store;

    NodeAnalyzer(DnsSettings settings) {
        // A node's verdict is given when its next window arrives; a node whose clients publish no
        // window any more (no DNS at all) has none, so its findings resolve after resolve-after.
        this.quietAfterMs = settings.window().toMillis() + settings.resolveAfter().toMillis();
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        super.init(context);
        store = context.getStateStore(STORE);
        context.schedule(java.time.Duration.ofSeconds(10), PunctuationType.WALL_CLOCK_TIME, this::resolveQuietNodes);
    }

    /**
     * Nodes no client window arrived from for window + resolve-after (wall clock, as the
     * punctuation: windows of a backlog keep arriving while their event times are old): their
     * findings are resolved, and idle nodes forgotten.
     */
    private void resolveQuietNodes(long now) {
        List<String> forgotten = new ArrayList<>();
        List<org.apache.kafka.streams.KeyValue<String, DnsNodeState>> quiet = new ArrayList<>();
        try (var nodes = store.all()) {
            nodes.forEachRemaining(entry -> {
                DnsNodeState state = entry.value;
                if (state.getLastWindowArrivedMs() == 0) {
                    return; // stored before arrivals were kept: judged from the next window on
                }
                long since = now - state.getLastWindowArrivedMs();
                if ((state.hasActive() || state.hasActiveRateLimit()) && since >= quietAfterMs) {
                    quiet.add(entry);
                } else if (!state.hasActive() && !state.hasActiveRateLimit() && since >= FORGET_AFTER_MS) {
                    forgotten.add(entry.key);
                }
            });
        }
        for (var entry : quiet) {
            DnsNodeState.Builder state = entry.value.toBuilder();
            List<DnsInsight> resolved = new ArrayList<>();
            if (state.hasActive()) {
                resolved.add(Insights.resolved(state.getActive(), now));
                state.clearActive();
            }
            if (state.hasActiveRateLimit()) {
                resolved.add(Insights.resolved(state.getActiveRateLimit(), now));
                state.clearActiveRateLimit();
            }
            store.put(entry.key, state.build());
            resolved.forEach(insight -> context().forward(new Record<>("node/" + entry.key, insight, now), INSIGHTS));
        }
        forgotten.forEach(store::delete);
    }

    @Override
    public void process(Record<String, DnsClientStats> record) {
        DnsClientStats stats = record.value();
        if (record.key() == null || stats == null || stats.getQueries() < MIN_QUERIES) {
            return;
        }
        String node = record.key();
        long window = Insights.ms(stats.getWindowStart());
        DnsNodeState stored = store.get(node);
        DnsNodeState.Builder state = stored == null ? DnsNodeState.newBuilder() : stored.toBuilder();
        state.setLastWindowArrivedMs(context().currentSystemTimeMs());
        List<DnsInsight> out = new ArrayList<>();
        if (window > state.getWindowStartMs()) {
            if (state.getWindowStartMs() > 0 && !storm(state) && state.hasActive()) {
                out.add(Insights.resolved(state.getActive(), window));
                state.clearActive();
            }
            if (state.getWindowStartMs() > 0 && !rateLimited(state) && state.hasActiveRateLimit()) {
                out.add(Insights.resolved(state.getActiveRateLimit(), window));
                state.clearActiveRateLimit();
            }
            state.setWindowStartMs(window).clearClients().clearFailingClients().clearEvidence().clearLimitedClients();
        } else if (window < state.getWindowStartMs()) {
            store.put(node, state.build()); // a late window: its verdict was given, but the node is not quiet
            return;
        }
        String client = stats.getNamespace().isEmpty() ? stats.getClientIp() : stats.getNamespace() + "/" + stats.getPodName();
        state.putClients(client, true);
        long servfail = stats.getResponsesOrDefault("SERVFAIL", 0);
        if ((servfail + stats.getUnanswered()) * 5 >= stats.getQueries()) {
            state.putFailingClients(client, true);
            if (state.getEvidenceCount() < DnsSettings.MAX_EVIDENCE) {
                state.addEvidence(String.format(Locale.ROOT, "%s: %d SERVFAIL and %d unanswered of %d queries", client,
                        servfail, stats.getUnanswered(), stats.getQueries()));
            }
        }
        if (RateLimits.limited(stats)) {
            state.putLimitedClients(client, stats.getLimitPerSecond());
            if (rateLimited(state)) {
                out.add(rateLimit(state, node, window, Insights.ms(stats.getWindowEnd())));
            }
        }
        if (storm(state)) {
            long now = Insights.ms(stats.getWindowEnd());
            DnsInsight.Builder insight = state.hasActive() ? state.getActive().toBuilder().clearEvidence()
                    .setTime(Insights.time(now)).setWindowEnd(Insights.time(now))
                    : Insights.finding("node/" + node, InsightKind.SERVFAIL_STORM, window, now);
            insight.setNodeName(node).setValue(state.getFailingClientsCount())
                    .setSummary(String.format(Locale.ROOT, "%d of %d DNS clients on node %s see SERVFAIL or no answer at "
                            + "once: the resolver they share, or its upstream, is failing or throttled",
                            state.getFailingClientsCount(), state.getClientsCount(), node))
                    .setSuggestedFix("Check CoreDNS's logs and its forward plugin's upstream (rate limits such as a "
                            + "cloud resolver's per-interface packet limit); NodeLocal DNSCache cuts upstream queries, "
                            + "and raising the cache TTL helps too.")
                    .addAllEvidence(state.getEvidenceList());
            state.setActive(insight);
            out.add(insight.build());
        }
        store.put(node, state.build());
        for (DnsInsight insight : out) {
            context().forward(new Record<>("node/" + node, insight, record.timestamp()), INSIGHTS);
        }
    }

    /** Several clients of one node rate-limited in the same window: the node's resolver, or what is in front of it. */
    private static boolean rateLimited(DnsNodeState.Builder state) {
        return state.getLimitedClientsCount() >= 2;
    }

    private static DnsInsight rateLimit(DnsNodeState.Builder state, String node, long window, long now) {
        long total = state.getLimitedClientsMap().values().stream().mapToLong(Long::longValue).sum();
        DnsInsight.Builder insight = state.hasActiveRateLimit() ? state.getActiveRateLimit().toBuilder().clearEvidence()
                .setTime(Insights.time(now)).setWindowEnd(Insights.time(now))
                : Insights.finding("node/" + node, InsightKind.RATE_LIMITED, window, now);
        insight.setNodeName(node).setValue(total)
                .setSummary(String.format(Locale.ROOT, "%d DNS clients on node %s are rate-limited in the same window, "
                        + "answered about %d queries a second together before the rest were refused: a limit of the "
                        + "node's resolver or of what stands in front of it", state.getLimitedClientsCount(), node, total))
                .setSuggestedFix("NodeLocal DNSCache answers repeated lookups on the node and keeps them off the "
                        + "limited path; otherwise raise the resolver's limit (a cloud resolver's per-interface packet "
                        + "limit, dnsmasq or BIND response rate limiting) or cut the pods' query rate (ndots, trailing dots).");
        state.getLimitedClientsMap().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .limit(DnsSettings.MAX_EVIDENCE).forEach(e -> insight.addEvidence(String.format(Locale.ROOT,
                        "%s: at most %d answers a second before refusals", e.getKey(), e.getValue())));
        state.setActiveRateLimit(insight);
        return insight.build();
    }

    private static boolean storm(DnsNodeState.Builder state) {
        int failing = state.getFailingClientsCount();
        return failing >= 2 && failing * 2 >= state.getClientsCount();
    }
}
