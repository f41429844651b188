package dev.weir.dns.analytics;

import dev.weir.common.dns.LatencyHistogram;
import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.NameCount;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A client's current window: opened by its first event (or by time, when a query expires),
 * aligned to the window length, counted into by every event, and closed into the
 * {@link DnsClientStats} the service publishes once its end has passed.
 */
final class ClientWindow {

    /** A window just closed, with what its detectors read beyond the published stats. */
    record Closed(DnsClientStats stats, List<NameCount> failedAsAsked, Set<String> resolved, long endMs) {
    }

    private final DnsClientState.Builder state;
    private final long lengthMs;
    private final WindowNames names;

    ClientWindow(DnsClientState.Builder state, DnsSettings settings) {
        this.state = state;
        this.lengthMs = settings.window().toMillis();
        this.names = new WindowNames(state);
    }

    /** The window an event counts in, carrying the client's identity as the event gives it. */
    DnsClientStats.Builder forEvent(DnsEvent event, long now) {
        openAt(now);
        DnsClientStats.Builder window = state.getWindowBuilder();
        if (!window.getClientIp().equals(event.getClientIp()) || !window.getPodName().equals(event.getPodName())
                || !window.getNodeName().equals(event.getNodeName()) || !window.getNamespace().equals(event.getNamespace())
                || !window.getWorkload().equals(event.getWorkload())) {
            window.setNamespace(event.getNamespace()).setPodName(event.getPodName()).setWorkload(event.getWorkload())
                    .setNodeName(event.getNodeName()).setClientIp(event.getClientIp());
            // Kept past the window: a window opened by time alone (a query expiring) still names the pod.
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
    DnsClientStats.Builder openAt(long now) {
        if (!state.hasWindow()) {
            long start = Math.max(Math.floorDiv(now, lengthMs) * lengthMs, state.getLastWindowEndMs());
            DnsClientStats identity = state.getIdentity();
            state.setWindow(DnsClientStats.newBuilder().setWindowStart(Insights.time(start))
                    .setWindowEnd(Insights.time(start + lengthMs)).setNamespace(identity.getNamespace())
                    .setPodName(identity.getPodName()).setWorkload(identity.getWorkload())
                    .setNodeName(identity.getNodeName()).setClientIp(identity.getClientIp()));
        }
        return state.getWindowBuilder();
    }

    /** Into the state record, before it is encoded: the name counts kept outside it. */
    void writeTo(DnsClientState.Builder record) {
        names.writeTo(record);
    }

    void clearFrom(DnsClientState.Builder record) {
        names.clearFrom(record);
    }

    /** Whether a window is open and has ended by {@code now}. */
    boolean endsBy(long now) {
        // OrBuilder: the window is being counted in its builder; getWindow() would build a copy.
        return state.hasWindow() && now >= Insights.ms(state.getWindowOrBuilder().getWindowEnd());
    }

    void countQuery(DnsEvent event, DnsClientStats.Builder window) {
        window.setQueries(window.getQueries() + 1);
        if (!event.getQtype().isEmpty()) {
            window.putQtypes(event.getQtype(), window.getQtypesOrDefault(event.getQtype(), 0) + 1);
        }
        if (event.getOverTcp()) {
            window.setOverTcp(window.getOverTcp() + 1);
        }
        names.count(WindowNames.Kind.ASKED, event.getName());
    }

    /**
     * Counts a response; {@code askedAt} is when its query was asked, or -1 for a response to no
     * query this client is known to have asked (which counts, but not towards a rate limit).
     */
    void countResponse(DnsEvent event, DnsClientStats.Builder window, long askedAt, long now, SearchList searchList) {
        String rcode = Rcodes.name(event.getRcode());
        window.putResponses(rcode, window.getResponsesOrDefault(rcode, 0) + 1);
        if (event.getTruncated()) {
            window.setTruncated(window.getTruncated() + 1);
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
        if (askedAt >= 0 && (event.getRcode() == Rcodes.REFUSED || event.getRcode() == Rcodes.SERVFAIL)) {
            names.count(WindowNames.Kind.REFUSED, SearchList.bare(event.getName())); // a rate limit's, or a broken name's
        }
        if (event.getRcode() == Rcodes.NXDOMAIN) {
            names.count(WindowNames.Kind.NXDOMAIN, event.getName());
            // For names that never resolve: which names failed as asked (not a search-path candidate).
            if (searchList.base(event.getName()) == null) {
                names.count(WindowNames.Kind.FAILED_AS_ASKED, SearchList.bare(event.getName()));
            }
        } else if (event.getRcode() == Rcodes.NOERROR) {
            // ...and which answered, as every name the answer's could have been asked as:
            // cart.shop.svc.cluster.local. answers cart, cart.shop, ...
            names.count(WindowNames.Kind.RESOLVED, SearchList.bare(event.getName()));
            for (String asked : searchList.bases(event.getName())) {
                names.count(WindowNames.Kind.RESOLVED, asked);
            }
        }
    }

    /** Closes the open window: its percentiles and top names are computed and its counters cleared. */
    Closed close() {
        DnsClientStats.Builder window = state.getWindowBuilder();
        RateLimits.closeSecond(state, window);
        List<Integer> latencies = state.getLatencyBucketsList();
        window.setLatencyP50Ms(LatencyHistogram.percentile(latencies, 0.50))
                .setLatencyP95Ms(LatencyHistogram.percentile(latencies, 0.95))
                .setLatencyP99Ms(LatencyHistogram.percentile(latencies, 0.99)).addAllLatencyBuckets(latencies);
        window.addAllTopNames(names.top(WindowNames.Kind.ASKED, DnsSettings.TOP));
        window.addAllTopNxdomain(names.top(WindowNames.Kind.NXDOMAIN, DnsSettings.TOP));
        List<NameCount> failedAsAsked = names.top(WindowNames.Kind.FAILED_AS_ASKED, DnsSettings.TOP);
        Set<String> resolved = new HashSet<>(names.all(WindowNames.Kind.RESOLVED));
        window.setRefusedNamesAnswered(names.all(WindowNames.Kind.REFUSED).stream().anyMatch(resolved::contains));
        names.clear();
        DnsClientStats closed = window.build();
        return new Closed(closed, failedAsAsked, resolved, Insights.ms(closed.getWindowEnd()));
    }

    /** After its detectors have judged it, the closed window is gone; a late event counts in the next one. */
    void finish(Closed closed) {
        state.setLastWindowEndMs(closed.endMs());
        state.clearWindow().clearLatencyBuckets();
    }
}
