package dev.weir.alerting.delivery;

import dev.weir.alerting.AlertingProperties;
import dev.weir.alerting.notify.Receiver;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Sends the outbox's due rows. A 2xx marks the row delivered; a 410 disables the receiver (the
 * alert stays visible over REST); anything else, or no answer, is retried with exponential backoff
 * and jitter (each gap at least twice the last), or after the receiver's Retry-After, until the
 * attempts run out. Every attempt carries the same webhook-id and a fresh timestamp and signature.
 *
 * <p>One receiver cannot hold up another: a row is claimed with a lease (its next attempt moved
 * past the delivery's deadline, in one short statement: no row lock is held while the request
 * runs), and deliveries run on a bounded pool, at most one per receiver at a time, each cut off at
 * its deadline however slowly the receiver answers. Several instances may run: SKIP LOCKED hands
 * each row to one, and a lease that runs out (an instance died mid-request) makes the row due
 * again. Connections resolve names through the {@link AddressGuard}, and redirects are not
 * followed, so a webhook goes only where the guard allows. What is stored of a failure says what
 * happened without internals (no connection-refused-or-filtered distinction, no receiver bytes).
 */
@Component
public class Deliverer {

    private static final Logger LOG = LoggerFactory.getLogger(Deliverer.class);
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(10);

    private final JdbcClient jdbc;
    private final AlertingStore store;
    private final AlertingProperties properties;
    private final AddressGuard guard;
    private final MeterRegistry registry;
    private final CloseableHttpClient http;
    private final ExecutorService workers;
    private final ScheduledExecutorService deadlines;
    private final Semaphore slots;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Semaphore wake = new Semaphore(0);
    private final dev.weir.common.Supervised loop = new dev.weir.common.Supervised("weir-alerting-delivery", this::deliver);
    private volatile Consumer<String> onReceiverDisabled = name -> { };
    private volatile Instant lastPrune = Instant.EPOCH;

    public Deliverer(JdbcClient jdbc, AlertingStore store, AlertingProperties properties, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.store = store;
        this.properties = properties;
        this.guard = properties.addressGuard();
        this.registry = registry;
        int concurrency = properties.deliveryConcurrency();
        this.slots = new Semaphore(concurrency);
        this.workers = Executors.newFixedThreadPool(concurrency, daemon("weir-alerting-deliver"));
        this.deadlines = Executors.newSingleThreadScheduledExecutor(daemon("weir-alerting-deadline"));
        Timeout timeout = Timeout.ofMilliseconds(properties.deliveryTimeout().toMillis());
        PoolingHttpClientConnectionManager connections = PoolingHttpClientConnectionManagerBuilder.create()
                // A receiver's status line and headers are bounded: an endless header costs it, not us.
                .setConnectionFactory(org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory.builder()
                        .http1Config(org.apache.hc.core5.http.config.Http1Config.custom().setMaxLineLength(8192)
                                .setMaxHeaderCount(64).build()).build())
                .setDnsResolver(new DnsResolver() {
                    @Override
                    public InetAddress[] resolve(String host) throws UnknownHostException {
                        return guard.addresses(host);
                    }

                    @Override
                    public String resolveCanonicalHostname(String host) {
                        return host;
                    }
                })
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(5))
                        .setSocketTimeout(timeout).build())
                .setMaxConnTotal(concurrency * 2).setMaxConnPerRoute(2).build();
        this.http = HttpClients.custom().setConnectionManager(connections).disableRedirectHandling()
                .disableAutomaticRetries().disableCookieManagement().disableAuthCaching().setUserAgent("weir-alerting")
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(timeout)
                        .setConnectionRequestTimeout(Timeout.ofSeconds(5)).build())
                .build();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        loop.start();
    }

    public boolean healthy() {
        return loop.healthy();
    }

    public long restarts() {
        return loop.restarts();
    }

    public void onReceiverDisabled(Consumer<String> listener) {
        this.onReceiverDisabled = listener;
    }

    /** New rows were written: look now rather than at the next poll. */
    public void wake() {
        wake.release();
    }

    /** Claims due rows while workers are free; a database error ends it, and the supervisor starts it again. */
    private void deliver(dev.weir.common.Supervised.Control control) throws InterruptedException {
        while (control.running()) {
            pruneWhenDue();
            while (control.running() && slots.tryAcquire()) {
                Optional<Outbox.Row> due;
                try {
                    due = claim();
                } catch (RuntimeException e) {
                    slots.release();
                    throw e;
                }
                if (due.isEmpty()) {
                    slots.release();
                    break;
                }
                Outbox.Row row = due.get();
                inFlight.add(row.receiver());
                workers.execute(() -> {
                    try {
                        attempt(row);
                    } catch (RuntimeException e) {
                        // Before any outcome (a receiver that no longer reads, the database away): an attempt
                        // all the same, so that the row runs out of attempts instead of circling forever.
                        LOG.warn("delivering {} to {}: {}", row.id(), row.receiver(), e.getMessage());
                        try {
                            retry(row, null, "could not be attempted", null);
                        } catch (RuntimeException again) {
                            LOG.warn("recording the failed attempt of {}: {}", row.id(), again.getMessage());
                        }
                    } finally {
                        inFlight.remove(row.receiver());
                        slots.release();
                        wake.release();
                    }
                });
            }
            wake.tryAcquire(200, TimeUnit.MILLISECONDS);
            wake.drainPermits();
        }
    }

    /**
     * Takes one due row whose receiver has no delivery running, leasing it past the delivery's
     * deadline: one statement, so the row is locked only while it runs.
     */
    private Optional<Outbox.Row> claim() {
        List<String> busy = List.copyOf(inFlight);
        Duration lease = properties.deliveryTimeout().plusSeconds(30);
        String notBusy = busy.isEmpty() ? "" : " AND receiver NOT IN (:busy)";
        var statement = jdbc.sql("UPDATE outbox SET next_attempt_at = now() + make_interval(secs => :lease) WHERE id = ("
                + "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= now()" + notBusy
                + " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *")
                .param("lease", (double) lease.toSeconds());
        if (!busy.isEmpty()) {
            statement = statement.param("busy", busy);
        }
        return statement.query((rs, n) -> Outbox.row(rs)).optional();
    }

    /** One attempt at a claimed row, and its outcome recorded. */
    private void attempt(Outbox.Row row) {
        long started = System.nanoTime();
        Receiver receiver = store.receiver(row.receiver()).orElse(null);
        if (receiver == null || receiver.disabled()) {
            finish(row, "disabled", null, receiver == null ? "the receiver was deleted" : receiver.disabledReason());
            return;
        }
        String refusal = guard.refusal(receiver.url());
        if (refusal != null) {
            retry(row, null, "refused: " + refusal, null);
            return;
        }
        long timestamp = Instant.now().getEpochSecond();
        HttpPost request = new HttpPost(URI.create(receiver.url()));
        request.setHeader("webhook-id", row.id());
        request.setHeader("webhook-timestamp", Long.toString(timestamp));
        request.setHeader("webhook-signature", Signatures.header(receiver.secrets(), row.id(), timestamp, row.payload()));
        request.setEntity(new StringEntity(row.payload(), ContentType.APPLICATION_JSON));
        // However the receiver dribbles its answer, the attempt ends at its deadline (counted from the
        // start: the guard's own name lookup above spent some of it).
        long left = Math.max(1, properties.deliveryTimeout().toMillis() - (System.nanoTime() - started) / 1_000_000);
        ScheduledFuture<?> deadline = deadlines.schedule(request::cancel, left, TimeUnit.MILLISECONDS);
        int code;
        String retryAfter;
        try (ClassicHttpResponse response = http.executeOpen(null, request, null)) {
            code = response.getCode();
            retryAfter = response.getFirstHeader("Retry-After") == null ? null
                    : response.getFirstHeader("Retry-After").getValue();
            // The body is not read: closing unread drops the connection, which is all a hostile receiver gets.
        } catch (AddressGuard.Refused e) {
            retry(row, null, "refused: " + e.getMessage(), null);
            return;
        } catch (java.io.IOException | RuntimeException e) {
            LOG.info("delivery {} to receiver {} failed: {}", row.id(), receiver.name(), e.toString());
            retry(row, null, request.isCancelled() || e instanceof java.net.SocketTimeoutException
                    ? "no answer within " + properties.deliveryTimeout().toMillis() + " ms"
                    : "no answer (the connection failed or broke)", null);
            return;
        } finally {
            deadline.cancel(false);
        }
        if (code >= 200 && code < 300) {
            finish(row, "delivered", code, null);
            notified(receiver.name(), "delivered");
        } else if (code == 410) {
            String reason = "410 Gone at " + Instant.now();
            store.disableReceiver(receiver.name(), reason);
            finish(row, "disabled", code, reason);
            notified(receiver.name(), "gone");
            LOG.warn("receiver {} answered 410 Gone: disabled", receiver.name());
            onReceiverDisabled.accept(receiver.name());
        } else {
            retry(row, code, "HTTP " + code, retryAfter);
        }
    }

    /** Delivered, failed and disabled rows go after weir.alerting.outbox-retention. */
    private void pruneWhenDue() {
        if (Instant.now().isBefore(lastPrune.plus(PRUNE_EVERY))) {
            return;
        }
        lastPrune = Instant.now();
        int pruned = jdbc.sql("DELETE FROM outbox WHERE status <> 'pending' AND created < now() - make_interval(secs => :s)")
                .param("s", (double) properties.outboxRetention().toSeconds()).update();
        if (pruned > 0) {
            LOG.info("pruned {} finished notifications older than {}", pruned, properties.outboxRetention());
        }
    }

    /**
     * Records an outcome, if this attempt still holds the row's lease (its next attempt is still
     * the one the claim set): an attempt that outlived its lease, whose row another attempt took
     * since, changes nothing.
     */
    private void finish(Outbox.Row row, String status, Integer code, String error) {
        error = storable(error);
        int updated = jdbc.sql("UPDATE outbox SET status = :s, attempts = attempts + 1, last_status = :c, last_error = :e, "
                + "delivered_at = " + ("delivered".equals(status) ? "now()" : "NULL")
                + " WHERE id = :id AND status = 'pending' AND next_attempt_at = :leased")
                .param("s", status).param("c", code).param("e", error).param("id", row.id())
                .param("leased", Timestamp.from(row.nextAttemptAt())).update();
        if (updated == 0) {
            LOG.warn("delivery {} outlived its lease; its outcome ({}) is not recorded", row.id(), status);
        }
    }

    private void retry(Outbox.Row row, Integer code, String error, String retryAfter) {
        error = storable(error);
        int attempts = row.attempts() + 1;
        if (attempts >= properties.maxAttempts()) {
            finish(row, "failed", code, error + " (after " + attempts + " attempts)");
            notified(row.receiver(), "failed");
            return;
        }
        Duration delay = backoff(attempts, properties.retryBase(), retryAfter);
        jdbc.sql("UPDATE outbox SET attempts = :a, last_status = :c, last_error = :e, next_attempt_at = :next "
                + "WHERE id = :id AND status = 'pending' AND next_attempt_at = :leased")
                .param("a", attempts).param("c", code).param("e", error)
                .param("next", Timestamp.from(Instant.now().plus(delay))).param("id", row.id())
                .param("leased", Timestamp.from(row.nextAttemptAt())).update();
        notified(row.receiver(), "retried");
    }

    /** Any text stored safely: no control characters (PostgreSQL refuses NUL in text), at most 300 characters. */
    static String storable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder clean = new StringBuilder(Math.min(text.length(), 300));
        text.codePoints().limit(300).forEach(c -> clean.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return clean.toString();
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
        loop.stop(Duration.ofSeconds(5));
        workers.shutdownNow();
        deadlines.shutdownNow();
        try {
            http.close();
        } catch (java.io.IOException e) {
            LOG.debug("closing the webhook client: {}", e.getMessage());
        }
    }

    private void notified(String receiver, String outcome) {
        io.micrometer.core.instrument.Counter.builder("weir_alerting_notifications")
                .description("Webhook delivery attempts by receiver and outcome")
                .tags("receiver", receiver, "outcome", outcome).register(registry).increment();
    }
}
