package dev.weir.api.policy;

import java.util.List;

/** GET /api/v1/policies/{kind}/{namespace}/{name}: the document and its revisions. */
public record PolicyDetail(String kind, String namespace, String name, long revision, String document, List<PolicyRevision> revisions) {
}
