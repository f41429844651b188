package dev.weir.api.dns;

/** One row of GET /api/v1/dns/health: a namespace's (or, within one, a pod's) DNS over a time range. */
public record DnsHealth(String namespace, String pod, String workload, long queries, long noerror, long nxdomain, long servfail, long refused, long unanswered, long retransmissions, long dropped, long searchPathWasted, double nxdomainRatio, double latencyP95Ms, int activeInsights) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public DnsHealth {
        namespace = namespace == null ? "" : namespace;
        pod = pod == null ? "" : pod;
        workload = workload == null ? "" : workload;
    }
}
