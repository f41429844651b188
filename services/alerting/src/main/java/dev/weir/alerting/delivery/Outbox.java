package dev.weir.alerting.delivery;

import dev.weir.alerting.notify.Notification;
import dev.weir.alerting.notify.Payloads;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The transactional outbox: a notification is a row before it is a request. The row's id is the
 * webhook-id every attempt carries, so a receiver can drop duplicates; a crash between the write
 * and the delivery leaves the row pending, and the next instance to start delivers it.
 */
@Component
public class Outbox {

    public record Row(String id, String receiver, String groupKey, String status, String payload, Instant created,
            int attempts, Instant nextAttemptAt, Integer lastStatus, String lastError, Instant deliveredAt) {
    }

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;

    public Outbox(JdbcClient jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
    }

    /** Writes all the notifications, or none. */
    public void add(List<Notification> notifications, String externalUrl) {
        if (notifications.isEmpty()) {
            return;
        }
        transactions.executeWithoutResult(status -> {
            for (Notification n : notifications) {
                jdbc.sql("INSERT INTO outbox (id, receiver, group_key, status, payload) VALUES (:id, :r, :g, 'pending', :p)")
                        .param("id", "msg_" + UUID.randomUUID()).param("r", n.receiver().name()).param("g", n.groupKey())
                        .param("p", Payloads.body(n, externalUrl)).update();
            }
        });
    }

    public List<Row> rows(String status, int limit) {
        String where = status == null ? "" : " WHERE status = :status";
        var statement = jdbc.sql("SELECT * FROM outbox" + where + " ORDER BY created DESC LIMIT :limit").param("limit", limit);
        if (status != null) {
            statement = statement.param("status", status);
        }
        return statement.query((rs, n) -> row(rs)).list();
    }

    public long pending() {
        return jdbc.sql("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").query(Long.class).single();
    }

    static Row row(java.sql.ResultSet rs) throws java.sql.SQLException {
        Timestamp delivered = rs.getTimestamp("delivered_at");
        Integer lastStatus = (Integer) rs.getObject("last_status");
        return new Row(rs.getString("id"), rs.getString("receiver"), rs.getString("group_key"), rs.getString("status"),
                rs.getString("payload"), rs.getTimestamp("created").toInstant(), rs.getInt("attempts"),
                rs.getTimestamp("next_attempt_at").toInstant(), lastStatus, rs.getString("last_error"),
                delivered == null ? null : delivered.toInstant());
    }
}
