package dev.weir.common;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A background loop that does not die silently: when its body fails (throws, or returns while it
 * should still run) it is started again after a backoff that doubles from 100 ms to 30 s (back to
 * the start once a run lasted a minute), every restart is counted, and {@link #healthy()} is false
 * from the failure until the body runs again, for the component's health to report DOWN.
 */
public final class Supervised {

    /** The loop's work: runs until {@link Control#running()} is false, or fails. */
    @FunctionalInterface
    public interface Body {
        void run(Control control) throws Exception;
    }

    /** What the body may ask of its supervisor. */
    public interface Control {
        boolean running();
    }

    private static final Logger LOG = LoggerFactory.getLogger(Supervised.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Duration STABLE = Duration.ofMinutes(1);

    private final String name;
    private final Body body;
    private final AtomicLong restarts = new AtomicLong();
    private volatile boolean running = true;
    private volatile boolean healthy;
    private volatile Thread thread;

    public Supervised(String name, Body body) {
        this.name = name;
        this.body = body;
    }

    /** Starts the loop on a daemon thread named after it. */
    public Supervised start() {
        Thread t = new Thread(this::supervise, name);
        t.setDaemon(true);
        thread = t;
        t.start();
        return this;
    }

    private void supervise() {
        Duration backoff = FIRST_BACKOFF;
        while (running) {
            long started = System.nanoTime();
            healthy = true;
            Throwable failure;
            try {
                body.run(() -> running);
                if (!running) {
                    return;
                }
                failure = new IllegalStateException("the loop returned while it should run");
            } catch (InterruptedException e) {
                if (!running) {
                    return;
                }
                failure = e;
            } catch (VirtualMachineError e) {
                healthy = false;
                throw e; // out of memory or stack: nothing to go on with here
            } catch (Exception | Error e) {
                failure = e;
            }
            if (!running) {
                return;
            }
            healthy = false;
            restarts.incrementAndGet();
            if (Duration.ofNanos(System.nanoTime() - started).compareTo(STABLE) > 0) {
                backoff = FIRST_BACKOFF;
            }
            LOG.error("{} failed; restarting in {} ms", name, backoff.toMillis(), failure);
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                if (!running) {
                    return;
                }
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** True while the body runs (not between a failure and its restart, nor before the start). */
    public boolean healthy() {
        Thread t = thread;
        return healthy && t != null && t.isAlive();
    }

    /** How often the body failed and was started again. */
    public long restarts() {
        return restarts.get();
    }

    public String name() {
        return name;
    }

    /**
     * Asks the body to end by itself (its {@link Control#running()} turns false, nothing is
     * interrupted: a publisher can drain its queue) and waits up to the timeout.
     */
    public void finish(Duration timeout) throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.join(timeout.toMillis());
        }
    }

    /** Stops the loop and waits up to the timeout for the body to end. */
    public void stop(Duration timeout) throws InterruptedException {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            t.join(timeout.toMillis());
        }
    }
}
