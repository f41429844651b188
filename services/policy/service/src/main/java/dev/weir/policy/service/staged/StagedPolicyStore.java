package dev.weir.policy.service.staged;

import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * Staged policies in PostgreSQL, with what each would have dropped since it was staged and the
 * staged evaluator's position in the flows topic. Counts and position move in one transaction,
 * fenced on the position: an evaluator that lost a partition in a rebalance cannot write for it.
 */
@Repository
public class StagedPolicyStore {

    /** Connection patterns kept per staged policy; beyond them only the totals grow. */
    public static final int MAX_PATTERNS = 1_000;

    public record Staged(long id, String kind, String namespace, String name, String document, String author,
            Instant stagedAt, long judged, long wouldDrop) {
        public String key() {
            return kind + "/" + (namespace.isEmpty() ? "" : namespace + "/") + name;
        }

        public Policy policy() {
            return PolicyParser.parse(document).get(0);
        }
    }

    /** A connection pattern a staged policy would drop. */
    public record Drop(String source, String destination, int port, String protocol, long flows, Instant firstSeen,
            Instant lastSeen) {
    }

    /** What one batch of judgements adds to one staged policy: connections judged ({0}), and the patterns it would drop. */
    public record Tally(long[] judged, Map<Pattern, long[]> drops) {
    }

    /** A connection pattern: {flows, first ms, last ms} are the values of a tally's drops. */
    public record Pattern(String source, String destination, int port, String protocol) {
    }

    private final JdbcClient jdbc;

    public StagedPolicyStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Stages the policies, replacing (and starting again) any staged under the same keys: all of them or none. */
    @Transactional
    public void stage(List<PolicyParser.Parsed> policies, String author) {
        for (PolicyParser.Parsed parsed : policies) {
            Policy p = parsed.policy();
            jdbc.sql("DELETE FROM staged_policy WHERE kind = ? AND namespace = ? AND name = ?")
                    .params(p.kind(), p.namespace(), p.name()).update();
            jdbc.sql("INSERT INTO staged_policy (kind, namespace, name, document, author) VALUES (?, ?, ?, ?::jsonb, ?)")
                    .params(p.kind(), p.namespace(), p.name(), parsed.json(), author).update();
        }
    }

    /** Changes whenever a policy is staged, restaged or unstaged: ids only grow, and a removal lowers the count. */
    public String version() {
        return jdbc.sql("SELECT coalesce(max(id), 0) || '/' || count(*) FROM staged_policy").query(String.class).single();
    }

    private static final String COLUMNS = "SELECT id, kind, namespace, name, document::text, author, staged_at, judged, "
            + "would_drop FROM staged_policy ";
    private static final org.springframework.jdbc.core.RowMapper<Staged> STAGED = (rs, i) -> new Staged(rs.getLong(1),
            rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getTimestamp(7).toInstant(),
            rs.getLong(8), rs.getLong(9));

    public List<Staged> all() {
        return jdbc.sql(COLUMNS + "ORDER BY id").query(STAGED).list();
    }

    public Optional<Staged> find(String kind, String namespace, String name) {
        return jdbc.sql(COLUMNS + "WHERE kind = ? AND namespace = ? AND name = ?").params(kind, namespace, name)
                .query(STAGED).optional();
    }

    /** The patterns it would drop, most flows first. */
    public List<Drop> drops(long stagedId, int limit) {
        return jdbc.sql("SELECT source, destination, port, protocol, flows, first_seen, last_seen FROM staged_drop "
                        + "WHERE staged_id = ? ORDER BY flows DESC, last_seen DESC LIMIT ?")
                .params(stagedId, limit)
                .query((rs, i) -> new Drop(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getLong(5),
                        rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant()))
                .list();
    }

    /**
     * Serialises stagings for the rest of the transaction: a bound on how many are staged is
     * checked and kept by one transaction at a time.
     */
    public void lock() {
        jdbc.sql("LOCK TABLE staged_policy IN SHARE ROW EXCLUSIVE MODE").update();
    }

    /** Unstages the staging with this id (not a newer one of the same key): true when it was there. */
    public boolean removeStaging(long id) {
        return jdbc.sql("DELETE FROM staged_policy WHERE id = ?").param(id).update() == 1;
    }

    /** Unstages: true when something was staged. */
    @Transactional
    public boolean remove(String kind, String namespace, String name) {
        return jdbc.sql("DELETE FROM staged_policy WHERE kind = ? AND namespace = ? AND name = ?")
                .params(kind, namespace, name).update() > 0;
    }

    /** The stored next offset per partition of the flows topic. */
    public Map<Integer, Long> offsets() {
        Map<Integer, Long> offsets = new java.util.HashMap<>();
        jdbc.sql("SELECT topic_partition, next_offset FROM staged_offset")
                .query(rs -> {
                    offsets.put(rs.getInt(1), rs.getLong(2));
                })
                ;
        return offsets;
    }

    /**
     * Adds one batch's tallies and moves the partitions' positions from where this evaluator read
     * them to where it got: all or nothing, and nothing at all when a position is no longer the
     * one it started from (another evaluator owns the partition now). A tally for a policy
     * unstaged meanwhile is dropped with it.
     *
     * @throws Fenced when fenced off (and nothing was written)
     */
    @Transactional
    public void record(Map<Long, Tally> tallies, Map<Integer, long[]> positions) {
        for (Map.Entry<Integer, long[]> p : positions.entrySet()) {
            long from = p.getValue()[0];
            long to = p.getValue()[1];
            int moved = from < 0
                    ? jdbc.sql("INSERT INTO staged_offset (topic_partition, next_offset) VALUES (?, ?) ON CONFLICT DO NOTHING")
                            .params(p.getKey(), to).update()
                    : jdbc.sql("UPDATE staged_offset SET next_offset = ? WHERE topic_partition = ? AND next_offset = ?")
                            .params(to, p.getKey(), from).update();
            if (moved != 1) {
                throw new Fenced(p.getKey());
            }
        }
        for (Map.Entry<Long, Tally> t : tallies.entrySet()) {
            long id = t.getKey();
            long wouldDrop = t.getValue().drops().values().stream().mapToLong(v -> v[0]).sum();
            int exists = jdbc.sql("UPDATE staged_policy SET judged = judged + ?, would_drop = would_drop + ? WHERE id = ?")
                    .params(t.getValue().judged()[0], wouldDrop, id).update();
            if (exists == 0) {
                continue;
            }
            long kept = jdbc.sql("SELECT count(*) FROM staged_drop WHERE staged_id = ?").param(id).query(Long.class).single();
            for (Map.Entry<Pattern, long[]> d : t.getValue().drops().entrySet()) {
                Pattern k = d.getKey();
                long[] v = d.getValue();
                int updated = jdbc.sql("""
                        UPDATE staged_drop SET flows = flows + ?, first_seen = LEAST(first_seen, ?), last_seen = GREATEST(last_seen, ?)
                        WHERE staged_id = ? AND source = ? AND destination = ? AND port = ? AND protocol = ?""")
                        .params(v[0], ts(v[1]), ts(v[2]), id, k.source(), k.destination(), k.port(), k.protocol()).update();
                if (updated == 0 && kept < MAX_PATTERNS) {
                    jdbc.sql("INSERT INTO staged_drop (staged_id, source, destination, port, protocol, flows, first_seen, last_seen) "
                                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                            .params(id, k.source(), k.destination(), k.port(), k.protocol(), v[0], ts(v[1]), ts(v[2])).update();
                    kept++;
                }
            }
        }
    }

    /** Another evaluator moved the partition's position: this one's batch must not count. */
    public static final class Fenced extends RuntimeException {
        Fenced(int partition) {
            super("partition " + partition + " of the flows topic is judged by another evaluator now");
        }
    }

    private static Timestamp ts(long millis) {
        return new Timestamp(millis);
    }
}
