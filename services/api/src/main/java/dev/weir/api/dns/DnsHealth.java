package dev.weir.api.dns;

/** One row of GET /api/v1/dns/health: a namespace's (or, within one, a pod's) DNS over a time range. */
public record DnsHealth(String namespace, String pod, String workload, long queries, long noerror, long nxdomain, long servfail, long refused, long unanswered, long retransmissions, long dropped, long searchPathWasted, double nxdomainRatio, double latencyP95Ms, int activeInsights) {
}
