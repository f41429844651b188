package dev.weir.policy.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Waiting for a revision: woken by changes, bounded in time and in waiters. */
class PropagationWatchTest {

    /** A watch with no topics behind it: the tests signal changes themselves. */
    private static PropagationWatch watch() {
        return new PropagationWatch();
    }

    @Test
    void aWaiterLooksAgainAfterEachChangeAndReturnsOnceDone() throws Exception {
        PropagationWatch watch = watch();
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger looks = new AtomicInteger();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> waiter = pool.submit(() -> {
                watch.await(() -> {
                    looks.incrementAndGet();
                    return done.get();
                }, Duration.ofSeconds(60));
                return null;
            });
            while (looks.get() == 0) {
                Thread.sleep(1);
            }
            done.set(true);
            watch.changed();
            waiter.get(30, TimeUnit.SECONDS); // long before its own 60 s
            assertThat(looks.get()).isGreaterThanOrEqualTo(2);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aWaitEndsWhenItsTimeIsUpWithoutAChange() throws Exception {
        AtomicInteger looks = new AtomicInteger();
        watch().await(() -> {
            looks.incrementAndGet();
            return false;
        }, Duration.ofMillis(50));
        assertThat(looks.get()).isEqualTo(1);
    }

    @Test
    void waitersAreBounded() throws Exception {
        PropagationWatch watch = watch();
        ExecutorService pool = Executors.newFixedThreadPool(PropagationWatch.MAX_WAITERS);
        CountDownLatch waiting = new CountDownLatch(PropagationWatch.MAX_WAITERS);
        AtomicBoolean release = new AtomicBoolean();
        List<Future<?>> waiters = new ArrayList<>();
        try {
            for (int i = 0; i < PropagationWatch.MAX_WAITERS; i++) {
                waiters.add(pool.submit(() -> {
                    AtomicBoolean first = new AtomicBoolean(true);
                    watch.await(() -> {
                        if (first.getAndSet(false)) {
                            waiting.countDown();
                        }
                        return release.get();
                    }, Duration.ofSeconds(60));
                    return null;
                }));
            }
            assertThat(waiting.await(30, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> watch.await(() -> true, Duration.ofSeconds(1)))
                    .isInstanceOf(PropagationWatch.TooManyWaiters.class);
            release.set(true);
            watch.changed();
            for (Future<?> waiter : waiters) {
                waiter.get(30, TimeUnit.SECONDS);
            }
            watch.await(() -> true, Duration.ofSeconds(1)); // a place is free again
        } finally {
            pool.shutdownNow();
        }
    }
}
