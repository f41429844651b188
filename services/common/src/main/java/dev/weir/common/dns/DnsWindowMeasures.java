package dev.weir.common.dns;

import dev.weir.proto.dns.v1.DnsClientStats;

/**
 * What a client's DNS window measures, defined once: the DNS service judges its baselines with
 * these, and the alerting service's rules over {@code dns-stats} read the same.
 */
public final class DnsWindowMeasures {

    private DnsWindowMeasures() {
    }

    /** Responses of every rcode. */
    public static long responses(DnsClientStats window) {
        long total = 0;
        for (long n : window.getResponsesMap().values()) {
            total += n;
        }
        return total;
    }

    /**
     * NXDOMAIN answers per response, leaving out search-path candidates: a name tried with each
     * search suffix before it resolves is expected to fail, and has an insight of its own.
     */
    public static double nxdomainRatio(DnsClientStats window) {
        long responses = responses(window);
        long failed = window.getResponsesOrDefault("NXDOMAIN", 0) - window.getSearchPathWasted();
        return responses == 0 ? 0 : Math.max(0, failed) / (double) responses;
    }

    /** SERVFAIL answers per response. */
    public static double servfailRatio(DnsClientStats window) {
        long responses = responses(window);
        return responses == 0 ? 0 : window.getResponsesOrDefault("SERVFAIL", 0) / (double) responses;
    }

    /** Queries given up on (no answer within the unanswered timeout) per query. */
    public static double unansweredRatio(DnsClientStats window) {
        return window.getQueries() == 0 ? 0 : window.getUnanswered() / (double) window.getQueries();
    }

    /** The window's latency histogram ({@link LatencyHistogram}'s buckets). */
    public static long[] latencyBuckets(DnsClientStats window) {
        long[] buckets = new long[LatencyHistogram.BUCKETS];
        for (int i = 0; i < window.getLatencyBucketsCount() && i < buckets.length; i++) {
            buckets[i] = window.getLatencyBuckets(i);
        }
        return buckets;
    }
}
