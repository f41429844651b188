package dev.weir.common.dns;

import java.util.List;

/**
 * Response latencies as a histogram of exponential buckets (each 25 % wider than the last, from
 * 50 µs to about a minute): 64 counters instead of every sample, so a client's state stays small
 * however many responses it gets. A percentile is the upper bound of its bucket: at most 25 % above
 * the true value, never below it. The DNS service fills it per client window; the range's
 * percentile, wherever it is asked for (the DNS API, alert rules), is that of the windows'
 * histograms added together.
 */
public final class LatencyHistogram {

    public static final int BUCKETS = 64;
    private static final double FIRST_MS = 0.05;
    private static final double GROWTH = 1.25;
    private static final double LOG_GROWTH = Math.log(GROWTH);

    private LatencyHistogram() {
    }

    public static int bucket(double ms) {
        if (ms <= FIRST_MS) {
            return 0;
        }
        return Math.min(BUCKETS - 1, (int) Math.ceil(Math.log(ms / FIRST_MS) / LOG_GROWTH));
    }

    public static double upperBound(int bucket) {
        return FIRST_MS * Math.pow(GROWTH, bucket);
    }

    /** The q-quantile's bucket upper bound, or 0 for no samples. */
    public static double percentile(List<Integer> counts, double q) {
        long[] asArray = new long[counts.size()];
        for (int i = 0; i < asArray.length; i++) {
            asArray[i] = counts.get(i);
        }
        return percentile(asArray, q);
    }

    /** The q-quantile of histograms added together (windows merged), or 0 for no samples. */
    public static double percentile(long[] counts, double q) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(q * total);
        long seen = 0;
        for (int b = 0; b < counts.length; b++) {
            seen += counts[b];
            if (seen >= rank) {
                return Math.round(upperBound(b) * 1000) / 1000.0;
            }
        }
        return upperBound(counts.length - 1);
    }
}
