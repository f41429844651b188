package dev.weir.dns.analytics;

import java.time.Duration;

/**
 * The analytics' knobs.
 *
 * @param window          length of a statistics window per client
 * @param unansweredAfter a query with no response by then counts as unanswered (resolvers retry
 *                        after 5 s, so that is the default)
 * @param resolveAfter    how long a finding must stay absent before its insight is resolved
 * @param minResponses    responses a window needs before ratios and percentiles are judged
 * @param clusterDomain   the cluster's DNS domain, as kubelet writes pods' search lists from it
 */
public record DnsSettings(Duration window, Duration unansweredAfter, Duration resolveAfter, int minResponses,
        String clusterDomain) {

    public static final DnsSettings DEFAULTS = new DnsSettings(Duration.ofSeconds(10), Duration.ofSeconds(5),
            Duration.ofSeconds(60), 10, "cluster.local");

    public DnsSettings {
        clusterDomain = clusterDomain == null || clusterDomain.isBlank() ? "cluster.local"
                : clusterDomain.strip().replaceAll("^\\.+|\\.+$", "").toLowerCase(java.util.Locale.ROOT);
    }

    /** A pod's search list as kubelet writes it, most specific first, each ending in a dot. */
    public java.util.List<String> searchSuffixes(String namespace) {
        String domain = clusterDomain + ".";
        return namespace.isEmpty() ? java.util.List.of("svc." + domain, domain)
                : java.util.List.of(namespace + ".svc." + domain, "svc." + domain, domain);
    }

    /** Bounds on per-client state, so a storm of distinct names cannot grow it without limit. */
    static final int MAX_NAMES = 64;
    static final int MAX_PENDING = 256;
    static final int MAX_RECENT = 64;
    static final int MAX_EVIDENCE = 10;
    static final int TOP = 5;
}
