package dev.weir.api.policy;

import java.util.List;

/** GET /api/v1/policies/{kind}/{namespace}/{name}: the document and its revisions. */
public record PolicyDetail(String kind, String namespace, String name, long revision, String document, List<PolicyRevision> revisions) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PolicyDetail {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
        document = document == null ? "" : document;
        revisions = revisions == null ? List.of() : List.copyOf(revisions);
    }
}
