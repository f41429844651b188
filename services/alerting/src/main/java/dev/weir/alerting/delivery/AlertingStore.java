package dev.weir.alerting.delivery;

import dev.weir.alerting.notify.Inhibition;
import dev.weir.alerting.notify.Matcher;
import dev.weir.alerting.notify.Receiver;
import dev.weir.alerting.notify.Silence;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/** Rules, receivers, silences and inhibitions in PostgreSQL (schema alerting). */
@Component
public class AlertingStore {

    private final JdbcClient jdbc;

    public AlertingStore(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public Map<String, String> rules() {
        Map<String, String> rules = new java.util.LinkedHashMap<>();
        jdbc.sql("SELECT name, document FROM rule ORDER BY name").query(rs -> {
            rules.put(rs.getString("name"), rs.getString("document"));
        });
        return rules;
    }

    public void saveRule(String name, String document) {
        jdbc.sql("INSERT INTO rule (name, document) VALUES (:n, :d) ON CONFLICT (name) DO UPDATE SET document = "
                + "EXCLUDED.document, updated = now()").param("n", name).param("d", document).update();
    }

    public boolean deleteRule(String name) {
        return jdbc.sql("DELETE FROM rule WHERE name = :n").param("n", name).update() > 0;
    }

    public List<Receiver> receivers() {
        return jdbc.sql("SELECT * FROM receiver ORDER BY name").query(AlertingStore::receiver).list();
    }

    public java.util.Optional<Receiver> receiver(String name) {
        return jdbc.sql("SELECT * FROM receiver WHERE name = :n").param("n", name).query(AlertingStore::receiver).optional();
    }

    private static Receiver receiver(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        return new Receiver(rs.getString("name"),
                rs.getString("url"), Receiver.Format.valueOf(rs.getString("format")), Json.strings(rs.getString("secrets")),
                Json.strings(rs.getString("matchers")).stream().map(Matcher::parse).toList(),
                Json.strings(rs.getString("group_by")), Duration.ofMillis(rs.getLong("group_wait_ms")),
                Duration.ofMillis(rs.getLong("group_interval_ms")), Duration.ofMillis(rs.getLong("repeat_interval_ms")),
                rs.getBoolean("disabled"), rs.getString("disabled_reason"));
    }

    public void saveReceiver(Receiver r) {
        jdbc.sql("""
                INSERT INTO receiver (name, url, format, secrets, matchers, group_by, group_wait_ms, group_interval_ms,
                    repeat_interval_ms, disabled, disabled_reason)
                VALUES (:name, :url, :format, CAST(:secrets AS jsonb), CAST(:matchers AS jsonb), CAST(:groupBy AS jsonb),
                    :wait, :interval, :repeat, false, NULL)
                ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, format = EXCLUDED.format, secrets = EXCLUDED.secrets,
                    matchers = EXCLUDED.matchers, group_by = EXCLUDED.group_by, group_wait_ms = EXCLUDED.group_wait_ms,
                    group_interval_ms = EXCLUDED.group_interval_ms, repeat_interval_ms = EXCLUDED.repeat_interval_ms,
                    disabled = false, disabled_reason = NULL
                """).param("name", r.name()).param("url", r.url()).param("format", r.format().name())
                .param("secrets", Json.write(r.secrets()))
                .param("matchers", Json.write(r.matchers().stream().map(Matcher::toString).toList()))
                .param("groupBy", Json.write(r.groupBy())).param("wait", r.groupWait().toMillis())
                .param("interval", r.groupInterval().toMillis()).param("repeat", r.repeatInterval().toMillis()).update();
    }

    public boolean deleteReceiver(String name) {
        return jdbc.sql("DELETE FROM receiver WHERE name = :n").param("n", name).update() > 0;
    }

    public void disableReceiver(String name, String reason) {
        jdbc.sql("UPDATE receiver SET disabled = true, disabled_reason = :r WHERE name = :n").param("n", name)
                .param("r", reason).update();
    }

    /** The alerts firing at the last evaluation that changed any, for a restart to take back. */
    public List<dev.weir.alerting.eval.Evaluator.Firing> firing() {
        return jdbc.sql("SELECT fingerprint, rule, group_key, active_since FROM alert_state").query((rs, n) ->
                new dev.weir.alerting.eval.Evaluator.Firing(rs.getString("fingerprint"), rs.getString("rule"),
                        Json.strings(rs.getString("group_key")), rs.getTimestamp("active_since").getTime())).list();
    }

    /** Replaces the stored firing alerts with these (in one transaction: never half of each). */
    @org.springframework.transaction.annotation.Transactional
    public void saveFiring(List<dev.weir.alerting.eval.Evaluator.Firing> firing) {
        jdbc.sql("DELETE FROM alert_state").update();
        for (dev.weir.alerting.eval.Evaluator.Firing alert : firing) {
            jdbc.sql("INSERT INTO alert_state (fingerprint, rule, group_key, active_since) VALUES (:f, :r, :k::jsonb, :a)")
                    .param("f", alert.fingerprint()).param("r", alert.rule()).param("k", Json.write(alert.key()))
                    .param("a", new java.sql.Timestamp(alert.activeSinceMs())).update();
        }
    }

    public List<Silence> silences() {
        return jdbc.sql("SELECT * FROM silence ORDER BY created").query((rs, n) -> new Silence(rs.getString("id"),
                Json.strings(rs.getString("matchers")).stream().map(Matcher::parse).toList(),
                rs.getTimestamp("starts_at").toInstant(), rs.getTimestamp("ends_at").toInstant(),
                rs.getString("created_by"), rs.getString("comment"))).list();
    }

    public void saveSilence(Silence s) {
        jdbc.sql("INSERT INTO silence (id, matchers, starts_at, ends_at, created_by, comment) VALUES (:id, "
                + "CAST(:m AS jsonb), :s, :e, :by, :c)").param("id", s.id())
                .param("m", Json.write(s.matchers().stream().map(Matcher::toString).toList()))
                .param("s", Timestamp.from(s.startsAt())).param("e", Timestamp.from(s.endsAt()))
                .param("by", s.createdBy()).param("c", s.comment()).update();
    }

    /** Ends a silence now (it stays listed, expired, as Alertmanager keeps them). */
    public boolean expireSilence(String id) {
        return jdbc.sql("UPDATE silence SET ends_at = LEAST(ends_at, now()) WHERE id = :id").param("id", id).update() > 0;
    }

    public List<Inhibition> inhibitions() {
        return jdbc.sql("SELECT * FROM inhibition ORDER BY id").query((rs, n) -> new Inhibition(
                Json.strings(rs.getString("source")).stream().map(Matcher::parse).toList(),
                Json.strings(rs.getString("target")).stream().map(Matcher::parse).toList(),
                Json.strings(rs.getString("equal")))).list();
    }

    public void saveInhibition(String id, Inhibition i) {
        jdbc.sql("INSERT INTO inhibition (id, source, target, equal) VALUES (:id, CAST(:s AS jsonb), CAST(:t AS jsonb), "
                + "CAST(:e AS jsonb))").param("id", id)
                .param("s", Json.write(i.source().stream().map(Matcher::toString).toList()))
                .param("t", Json.write(i.target().stream().map(Matcher::toString).toList()))
                .param("e", Json.write(i.equal())).update();
    }

    public boolean deleteInhibition(String id) {
        return jdbc.sql("DELETE FROM inhibition WHERE id = :id").param("id", id).update() > 0;
    }
}
