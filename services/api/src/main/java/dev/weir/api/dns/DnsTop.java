package dev.weir.api.dns;

/** One row of GET /api/v1/dns/top: a name, client or NXDOMAIN name and its count. */
public record DnsTop(String key, long count) {
}
