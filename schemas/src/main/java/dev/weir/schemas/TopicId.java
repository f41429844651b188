package dev.weir.schemas;

/**
 * The topics Weir's code uses, by catalogue id. Names and settings come from {@code weir/topics.yaml}
 * through {@link TopicCatalogue}; a test checks both sides list the same ids.
 */
public enum TopicId {
    FLOWS("flows"),
    ENDPOINTS("endpoints"),
    PODS("pods"),
    NAMESPACES("namespaces"),
    NODES("nodes"),
    API_SERVER("apiserver"),
    IDENTITIES("identities"),
    IPCACHE("ipcache"),
    ENDPOINT_POLICY_STATE("endpoint-policy-state"),
    MAP_ACKS("map-acks"),
    NODE_STATUS("node-status"),
    DNS_OBSERVATIONS("dns-observations"),
    STAGED_DROPS("staged-drops"),
    DNS_INSIGHTS("dns-insights"),
    DNS_STATS("dns-stats"),
    ALERTS("alerts"),
    DEAD_LETTER("dead-letter");

    private final String catalogueId;

    TopicId(String catalogueId) {
        this.catalogueId = catalogueId;
    }

    public String catalogueId() {
        return catalogueId;
    }
}
