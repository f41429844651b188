package dev.weir.api.dns;

/** One row of GET /api/v1/dns/top: a name, client or NXDOMAIN name and its count. */
public record DnsTop(String key, long count) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public DnsTop {
        key = key == null ? "" : key;
    }
}
