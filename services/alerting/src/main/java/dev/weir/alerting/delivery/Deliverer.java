package dev.weir.alerting.delivery;

import dev.weir.alerting.AlertingProperties;
import dev.weir.alerting.notify.Receiver;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Sends the outbox's due rows, one at a time per row lock (several instances may run: SKIP LOCKED
 * hands each row to one). A 2xx marks the row delivered; a 410 disables the receiver (the alert
 * stays visible over REST); anything else, or no answer, is retried with exponential backoff and
 * jitter (each gap at least twice the last), or after the receiver's Retry-After, until the
 * attempts run out. Every attempt carries the same webhook-id and a fresh timestamp and signature.
 * Redirects are not followed: they could lead past the address guard.
 */
@Component
public class Deliverer implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(Deliverer.class);

    private final JdbcClient jdbc;
    private final TransactionTemplate transactions;
    private final AlertingStore store;
    private final AlertingProperties properties;
    private final AddressGuard guard;
    private final MeterRegistry registry;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean running = true;
    private volatile Consumer<String> onReceiverDisabled = name -> { };
    private Thread thread;

    public Deliverer(JdbcClient jdbc, TransactionTemplate transactions, AlertingStore store, AlertingProperties properties,
            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.store = store;
        this.properties = properties;
        this.guard = new AddressGuard(properties.allowPrivateReceivers());
        this.registry = registry;
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        thread = new Thread(this, "weir-alerting-delivery");
        thread.setDaemon(true);
        thread.start();
    }

    public void onReceiverDisabled(Consumer<String> listener) {
        this.onReceiverDisabled = listener;
    }

    /** New rows were written: look now rather than at the next poll. */
    public void wake() {
        wake.release();
    }

    @Override
    public void run() {
        while (running) {
            try {
                boolean sent;
                do {
                    sent = Boolean.TRUE.equals(transactions.execute(status -> deliverOne()));
                } while (sent && running);
                wake.tryAcquire(200, TimeUnit.MILLISECONDS);
                wake.drainPermits();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("delivering notifications: {}", e.getMessage());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** Claims one due row (in the caller's transaction), attempts it, records the outcome. */
    private boolean deliverOne() {
        Optional<Outbox.Row> due = jdbc.sql("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= now() "
                + "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED").query((rs, n) -> Outbox.row(rs)).optional();
        if (due.isEmpty()) {
            return false;
        }
        Outbox.Row row = due.get();
        Receiver receiver = store.receiver(row.receiver()).orElse(null);
        if (receiver == null || receiver.disabled()) {
            finish(row, "disabled", null, receiver == null ? "the receiver was deleted" : receiver.disabledReason());
            return true;
        }
        String refusal = guard.refusal(receiver.url());
        if (refusal != null) {
            retry(row, null, "refused: " + refusal, null);
            return true;
        }
        long timestamp = Instant.now().getEpochSecond();
        HttpRequest request = HttpRequest.newBuilder(URI.create(receiver.url())).timeout(properties.deliveryTimeout())
                .header("Content-Type", "application/json").header("User-Agent", "weir-alerting")
                .header("webhook-id", row.id()).header("webhook-timestamp", Long.toString(timestamp))
                .header("webhook-signature", Signatures.header(receiver.secrets(), row.id(), timestamp, row.payload()))
                .POST(HttpRequest.BodyPublishers.ofString(row.payload())).build();
        HttpResponse<Void> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.discarding());
        } catch (java.io.IOException e) {
            retry(row, null, e.getClass().getSimpleName() + ": " + e.getMessage(), null);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        int code = response.statusCode();
        if (code >= 200 && code < 300) {
            finish(row, "delivered", code, null);
            notified(receiver.name(), "delivered");
        } else if (code == 410) {
            String reason = "410 Gone from " + receiver.url() + " at " + Instant.now();
            store.disableReceiver(receiver.name(), reason);
            finish(row, "disabled", code, reason);
            notified(receiver.name(), "gone");
            LOG.warn("receiver {} answered 410 Gone: disabled", receiver.name());
            onReceiverDisabled.accept(receiver.name());
        } else {
            retry(row, code, "HTTP " + code, response.headers().firstValue("Retry-After").orElse(null));
        }
        return true;
    }

    private void finish(Outbox.Row row, String status, Integer code, String error) {
        jdbc.sql("UPDATE outbox SET status = :s, attempts = attempts + 1, last_status = :c, last_error = :e, "
                + "delivered_at = " + ("delivered".equals(status) ? "now()" : "NULL") + " WHERE id = :id")
                .param("s", status).param("c", code).param("e", error).param("id", row.id()).update();
    }

    private void retry(Outbox.Row row, Integer code, String error, String retryAfter) {
        int attempts = row.attempts() + 1;
        if (attempts >= properties.maxAttempts()) {
            finish(row, "failed", code, error + " (after " + attempts + " attempts)");
            notified(row.receiver(), "failed");
            return;
        }
        Duration delay = backoff(attempts, properties.retryBase(), retryAfter);
        jdbc.sql("UPDATE outbox SET attempts = :a, last_status = :c, last_error = :e, next_attempt_at = :next WHERE id = :id")
                .param("a", attempts).param("c", code).param("e", error)
                .param("next", Timestamp.from(Instant.now().plus(delay))).param("id", row.id()).update();
        notified(row.receiver(), "retried");
    }

    /**
     * The wait before attempt n+1: base × 2^(n-1), plus up to a quarter of it at random (so
     * receivers recovering from an outage are not hit by every sender at once), at most an hour;
     * Retry-After, in seconds or as an HTTP date, when the receiver asked for longer.
     */
    static Duration backoff(int failedAttempts, Duration base, String retryAfter) {
        long exponential = base.toMillis() << Math.min(failedAttempts - 1, 20);
        long jittered = Math.min(Duration.ofHours(1).toMillis(),
                exponential + ThreadLocalRandom.current().nextLong(exponential / 4 + 1));
        Duration delay = Duration.ofMillis(jittered);
        if (retryAfter != null) {
            Duration asked = retryAfter(retryAfter);
            if (asked != null && asked.compareTo(delay) > 0) {
                delay = asked.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : asked;
            }
        }
        return delay;
    }

    static Duration retryAfter(String value) {
        try {
            return Duration.ofSeconds(Long.parseLong(value.trim()));
        } catch (NumberFormatException notSeconds) {
            try {
                return Duration.between(Instant.now(),
                        ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
            } catch (java.time.format.DateTimeParseException neither) {
                return null;
            }
        }
    }

    @PreDestroy
    void stop() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.interrupt();
            thread.join(5000);
        }
    }

    private void notified(String receiver, String outcome) {
        io.micrometer.core.instrument.Counter.builder("weir_alerting_notifications")
                .description("Webhook delivery attempts by receiver and outcome")
                .tags("receiver", receiver, "outcome", outcome).register(registry).increment();
    }
}
