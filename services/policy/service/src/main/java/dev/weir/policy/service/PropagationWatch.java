package dev.weir.policy.service;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import org.springframework.stereotype.Component;

/**
 * Lets a status request wait for a policy revision to be enforced instead of polling: every
 * published compile and every ack wakes the waiters, which look again at the service's own view.
 * Waiters are bounded ({@link #MAX_WAITERS}); each waits at most {@link #MAX_WAIT}.
 */
@Component
public class PropagationWatch {

    /** Waiting requests hold a servlet thread each. */
    static final int MAX_WAITERS = 16;
    /** How often one waiter looks at most: each look reads every endpoint's state. */
    static final Duration LOOK_EVERY = Duration.ofMillis(5);
    static final Duration MAX_WAIT = Duration.ofSeconds(60);

    /** More status requests wait than {@link #MAX_WAITERS}. */
    static final class TooManyWaiters extends RuntimeException {
        TooManyWaiters() {
            super(MAX_WAITERS + " status requests are waiting already; ask again without wait, or later");
        }
    }

    private final Semaphore waiters = new Semaphore(MAX_WAITERS);
    private long generation;

    /** Woken by every ack the agents send; the reconciler tells it of each published compile. */
    @org.springframework.beans.factory.annotation.Autowired
    public PropagationWatch(DesiredStateTopics topics) {
        topics.onAck((key, ack) -> changed());
    }

    /** A watch told of changes only through {@link #changed()}. */
    PropagationWatch() {
    }

    /** Something a waiter may be waiting for happened: a compile was published, an ack arrived. */
    synchronized void changed() {
        generation++;
        notifyAll();
    }

    /**
     * Returns once done holds or the time is up. Done is asked again after a change, at most
     * every {@link #LOOK_EVERY} (a rollout's acks arrive by the thousand: they fold into one look).
     */
    void await(BooleanSupplier done, Duration wait) throws InterruptedException {
        if (!waiters.tryAcquire()) {
            throw new TooManyWaiters();
        }
        try {
            long deadline = System.nanoTime() + wait.toNanos();
            long seen;
            synchronized (this) {
                seen = generation;
            }
            while (!done.getAsBoolean()) {
                long looked = System.nanoTime();
                synchronized (this) {
                    while (generation == seen) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return;
                        }
                        wait(Math.max(1, left / 1_000_000));
                    }
                    // Fold the changes of the next moments into this look.
                    long pause = Math.min(LOOK_EVERY.toNanos() - (System.nanoTime() - looked), deadline - System.nanoTime());
                    if (pause > 0) {
                        wait(Math.max(1, pause / 1_000_000));
                    }
                    seen = generation;
                }
                if (System.nanoTime() - deadline >= 0) {
                    return;
                }
            }
        } finally {
            waiters.release();
        }
    }
}
