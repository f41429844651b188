package dev.weir.api.dns;

/**
 * One row of GET /api/v1/dns/health: a namespace's (or, within one, a pod's) DNS over a time range;
 * latencyP95Ms is the range's p95, from its windows' latency histograms added together.
 */
public record DnsHealth(String namespace, String pod, String workload, long queries, long noerror, long nxdomain, long servfail, long refused, long unanswered, long retransmissions, long dropped, long searchPathWasted, double nxdomainRatio, double latencyP95Ms, int activeInsights) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public DnsHealth {
        namespace = namespace == null ? "" : namespace;
        pod = pod == null ? "" : pod;
        workload = workload == null ? "" : workload;
    }

    /** The same row with the range's p95 latency (from the windows' merged histograms). */
    public DnsHealth withLatencyP95Ms(double p95) {
        return new DnsHealth(namespace, pod, workload, queries, noerror, nxdomain, servfail, refused, unanswered,
                retransmissions, dropped, searchPathWasted, nxdomainRatio, p95, activeInsights);
    }
}
