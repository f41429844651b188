package dev.weir.dns.analytics;

import java.util.List;
import java.util.Locale;

/**
 * What each client insight tells the operator: a summary naming the pod and the numbers, and the
 * fix. Only words live here; what raises an insight, and when, is decided by the detectors.
 */
final class Advice {

    /** An insight's summary and suggested fix. */
    record Text(String summary, String fix) {
    }

    private Advice() {
    }

    /** How a client is named: its pod, or its address when it is no known pod. */
    static String subject(String namespace, String pod, String clientIp) {
        return namespace.isEmpty() ? "client " + clientIp : "pod " + namespace + "/" + pod;
    }

    static Text searchPath(String subject, String name, int candidates, double factor, long wasted) {
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return new Text(String.format(Locale.ROOT,
                "%s resolves %s only after %d search-path candidates answered NXDOMAIN: %.1f queries per answer "
                        + "(%d wasted queries in this window)", subject, name, candidates, factor, wasted),
                "Look the name up fully qualified, with a trailing dot (" + bare + ".), or lower ndots in the pod's "
                        + "dnsConfig (options: [{name: ndots, value: \"1\"}]) so names with dots are tried as they are "
                        + "first; NodeLocal DNSCache takes the load off CoreDNS meanwhile.");
    }

    static Text blockedByPolicy(String subject, String server, List<String> policies) {
        return new Text(subject + "'s DNS queries to " + server + " are dropped by policy"
                + (policies.isEmpty() ? "" : " (" + String.join(", ", policies) + ")") + ": its name lookups will time out",
                "Allow egress to the cluster DNS service on UDP and TCP port 53 in "
                        + (policies.isEmpty() ? "the policy that isolates the pod's egress" : String.join(", ", policies))
                        + ", e.g. an egress rule to {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
                        + "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}} with ports 53/UDP and 53/TCP.");
    }

    static Text timeouts(String subject, long unanswered, long afterSeconds, long retransmissions) {
        return new Text(String.format(Locale.ROOT, "%s had %d DNS queries unanswered for %d s in this window%s", subject,
                unanswered, afterSeconds, retransmissions > 0 ? " and re-sent " + retransmissions : ""),
                "Unanswered A/AAAA pairs sent from one socket are the conntrack insertion race: set "
                        + "dnsConfig options single-request-reopen (glibc) or use NodeLocal DNSCache (TCP to the "
                        + "upstream); otherwise check that CoreDNS is not overloaded or throttled upstream.");
    }

    static Text pairRace(String subject, long halvesLost, long afterSeconds) {
        return new Text(String.format(Locale.ROOT,
                "%s lost one query of %d A/AAAA pairs sent from one socket in this window (the twin was answered): "
                        + "each lookup waits out the resolver's timeout (%d s here) before it retries",
                subject, halvesLost, afterSeconds),
                "This is the conntrack race of parallel A and AAAA queries from one socket. Set dnsConfig options "
                        + "single-request-reopen (glibc: a new socket for the second query) or use-vc (TCP), or run "
                        + "NodeLocal DNSCache (no conntrack entry on the way to the cache); fewer search domains (a "
                        + "lower ndots, trailing dots) mean fewer pairs to lose.");
    }

    static String rateLimitEvidence(long refused, long servfail, long responses, long limitedSeconds, long limit) {
        return String.format(Locale.ROOT, "%d REFUSED and %d SERVFAIL of %d answers; in %d second(s) some queries were "
                + "answered (at most %d in one) while the rest were refused", refused, servfail, responses, limitedSeconds, limit);
    }

    static Text rateLimited(String subject, long refused, long limit) {
        return new Text(String.format(Locale.ROOT,
                "%s's resolver refuses its lookups in bursts: %d refused in this window, while at most %d a second were "
                        + "answered: a rate limit of about %d queries a second", subject, refused, limit, limit),
                "Send fewer queries: NodeLocal DNSCache answers repeated lookups on the node, and trailing dots or a "
                        + "lower ndots stop each name costing its whole search path. Or raise the resolver's limit (a "
                        + "response rate limit in dnsmasq or BIND, a cloud resolver's per-interface packet limit).");
    }

    /**
     * A name that never resolves; the likely cause follows from its shape: one label is a Service
     * the pod's namespace does not have (a typo, one in another namespace, a removed one), two a
     * Service by namespace that does not exist, longer a record upstream.
     */
    static Text unresolvable(String subject, String bare, String namespace, long failures, long windowSeconds,
            double perMinute) {
        String[] labels = bare.split("\\.");
        String cause = labels.length == 1
                ? "no Service '" + bare + "' in namespace " + (namespace.isEmpty() ? "(none)" : namespace)
                        + ": a misspelt name, a Service in another namespace (ask for " + bare
                        + ".<namespace>), or one that was removed"
                : labels.length == 2
                        ? "no Service '" + labels[0] + "' in namespace '" + labels[1] + "': a misspelt name or namespace, or a "
                                + "Service that was removed"
                        : "the name does not exist upstream: a misspelt name, or a record that was removed";
        return new Text(String.format(Locale.ROOT,
                "%s keeps asking for %s, which never resolves: %d NXDOMAIN in the last %d s (%.1f a minute); likely %s",
                subject, bare, failures, windowSeconds, perMinute, cause),
                "Correct the name in the pod's configuration (or create the Service it expects); a name in another "
                        + "namespace is <service>.<namespace>. Until then every lookup costs the whole search path.");
    }

    static Text nxdomainSpike(String subject, double ratio, double usual) {
        return new Text(String.format(Locale.ROOT, "%s: %.0f%% of DNS answers were NXDOMAIN, against %.0f%% normally",
                subject, ratio * 100, usual * 100),
                "Check the names it asks for (top NXDOMAIN names in the evidence): a misspelt service, a "
                        + "deleted Service or a wrong namespace in a client's configuration.");
    }

    static Text highLatency(String subject, double p95, double usual) {
        return new Text(String.format(Locale.ROOT, "%s: DNS p95 latency %.1f ms, against %.1f ms normally", subject, p95,
                usual), "Look at CoreDNS's CPU and its upstream's latency; NodeLocal DNSCache answers repeated "
                        + "lookups on the node.");
    }
}
