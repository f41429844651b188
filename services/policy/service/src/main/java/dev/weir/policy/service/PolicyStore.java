package dev.weir.policy.service;

import dev.weir.api.policy.AppliedPolicy;
import dev.weir.api.policy.PolicyRevision;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * Policies and their revision history in PostgreSQL. Applying a set of policies is one
 * transaction: all of them are stored, or none.
 */
@Repository
public class PolicyStore {

    /** A policy as stored now; id doubles as the cookie of its map entries. */
    public record StoredPolicy(long id, String kind, String namespace, String name, long revision, String document,
            Instant updated) {
        public String key() {
            return kind + "/" + (namespace.isEmpty() ? "" : namespace + "/") + name;
        }
    }

    /** What applying did to one policy: its revision, and whether the revision is new. */
    private final JdbcClient jdbc;

    public PolicyStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    public List<AppliedPolicy> apply(List<PolicyParser.Parsed> policies, String source, String author) {
        List<AppliedPolicy> applied = new ArrayList<>();
        for (PolicyParser.Parsed parsed : policies) {
            Policy p = parsed.policy();
            String document = parsed.json();
            Optional<StoredPolicy> current = find(p.kind(), p.namespace(), p.name());
            if (current.isPresent() && current.get().revision() > 0 && Objects.equals(normal(current.get().document()),
                    normal(document))) {
                applied.add(new AppliedPolicy(p.kind(), p.namespace(), p.name(), current.get().revision(), false));
                continue;
            }
            long id;
            long revision;
            if (current.isEmpty()) {
                id = jdbc.sql("""
                        INSERT INTO policy (kind, namespace, name, revision) VALUES (?, ?, ?, 1)
                        ON CONFLICT (kind, namespace, name) DO UPDATE SET revision = policy.revision + 1, deleted_at = NULL
                        RETURNING id""").params(p.kind(), p.namespace(), p.name()).query(Long.class).single();
                revision = jdbc.sql("SELECT revision FROM policy WHERE id = ?").param(id).query(Long.class).single();
            } else {
                id = current.get().id();
                revision = jdbc.sql("UPDATE policy SET revision = revision + 1, deleted_at = NULL WHERE id = ? RETURNING revision")
                        .param(id).query(Long.class).single();
            }
            jdbc.sql("INSERT INTO policy_revision (policy_id, revision, document, source, author) VALUES (?, ?, ?::jsonb, ?, ?)")
                    .params(id, revision, document, source, author).update();
            applied.add(new AppliedPolicy(p.kind(), p.namespace(), p.name(), revision, true));
        }
        return applied;
    }

    /** Deletes a policy; its history stays. Returns the revision that deleted it. */
    @Transactional
    public Optional<Long> delete(String kind, String namespace, String name, String author) {
        Optional<StoredPolicy> current = find(kind, namespace, name);
        if (current.isEmpty()) {
            return Optional.empty();
        }
        long revision = jdbc.sql("UPDATE policy SET revision = revision + 1, deleted_at = now() WHERE id = ? RETURNING revision")
                .param(current.get().id()).query(Long.class).single();
        jdbc.sql("INSERT INTO policy_revision (policy_id, revision, document, source, author) VALUES (?, ?, NULL, 'api', ?)")
                .params(current.get().id(), revision, author).update();
        return Optional.of(revision);
    }

    public List<StoredPolicy> active() {
        return jdbc.sql("""
                SELECT p.id, p.kind, p.namespace, p.name, p.revision, r.document::text AS document, r.created_at
                FROM policy p JOIN policy_revision r ON r.policy_id = p.id AND r.revision = p.revision
                WHERE p.deleted_at IS NULL ORDER BY p.id""")
                .query((rs, i) -> new StoredPolicy(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getString(6), rs.getTimestamp(7).toInstant()))
                .list();
    }

    public Optional<StoredPolicy> find(String kind, String namespace, String name) {
        return jdbc.sql("""
                SELECT p.id, p.kind, p.namespace, p.name, p.revision, r.document::text, r.created_at
                FROM policy p JOIN policy_revision r ON r.policy_id = p.id AND r.revision = p.revision
                WHERE p.kind = ? AND p.namespace = ? AND p.name = ? AND p.deleted_at IS NULL""")
                .params(kind, namespace, name)
                .query((rs, i) -> new StoredPolicy(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getString(6), rs.getTimestamp(7).toInstant()))
                .optional();
    }

    /** A policy's place in its history, deleted or not: its id and latest revision. */
    public record History(long id, long revision, boolean deleted) {
    }

    public Optional<History> history(String kind, String namespace, String name) {
        return jdbc.sql("SELECT id, revision, deleted_at IS NOT NULL FROM policy WHERE kind = ? AND namespace = ? AND name = ?")
                .params(kind, namespace, name)
                .query((rs, i) -> new History(rs.getLong(1), rs.getLong(2), rs.getBoolean(3))).optional();
    }

    /** The document of one revision; empty when there is no such revision or it is the one that deleted the policy. */
    public Optional<String> document(long policyId, long revision) {
        return jdbc.sql("SELECT document::text FROM policy_revision WHERE policy_id = ? AND revision = ? AND document IS NOT NULL")
                .params(policyId, revision).query(String.class).optional();
    }

    /** The latest revision before the given one that holds a document (not a deletion). */
    public Optional<Long> previousDocumentRevision(long policyId, long before) {
        return jdbc.sql("SELECT max(revision) FROM policy_revision WHERE policy_id = ? AND revision < ? AND document IS NOT NULL")
                .params(policyId, before).query(Long.class).optional();
    }

    public List<PolicyRevision> revisions(long policyId) {
        return jdbc.sql("SELECT revision, source, author, created_at, document IS NULL FROM policy_revision "
                        + "WHERE policy_id = ? ORDER BY revision")
                .param(policyId)
                .query((rs, i) -> new PolicyRevision(rs.getLong(1), rs.getString(2), rs.getString(3),
                        toInstant(rs.getTimestamp(4)), rs.getBoolean(5)))
                .list();
    }

    private static Instant toInstant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    /** JSONB normalises key order and spacing; compare the same way. */
    private String normal(String json) {
        return jdbc.sql("SELECT ?::jsonb::text").param(json).query(String.class).single();
    }
}
