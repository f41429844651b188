package dev.weir.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SupervisedTest {

    @Test
    void aFailedLoopIsUnhealthyUntilItRunsAgainAndEveryRestartIsCounted() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch failNow = new CountDownLatch(1);
        CountDownLatch holdRestart = new CountDownLatch(1);
        Supervised loop = new Supervised("test-loop", control -> {
            int run = runs.incrementAndGet();
            if (run == 1) {
                failNow.await();
                throw new IllegalStateException("the broker went away");
            }
            if (run == 2) {
                throw new RuntimeException("and again at once");
            }
            holdRestart.countDown();
            while (control.running()) {
                Thread.sleep(10);
            }
        });
        assertThat(loop.healthy()).as("not started").isFalse();
        loop.start();
        await().atMost(Duration.ofSeconds(5)).until(loop::healthy);
        failNow.countDown();
        await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5)).until(() -> !loop.healthy());
        assertThat(loop.restarts()).isGreaterThanOrEqualTo(1);
        assertThat(holdRestart.await(5, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(5)).until(loop::healthy);
        assertThat(loop.restarts()).isEqualTo(2);
        loop.stop(Duration.ofSeconds(5));
        assertThat(loop.healthy()).isFalse();
        assertThat(runs.get()).isEqualTo(3);
    }

    @Test
    void aLoopThatReturnsWhileItShouldRunIsAFailureToo() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Supervised loop = new Supervised("returning", control -> {
            runs.incrementAndGet();
        }).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> loop.restarts() >= 2);
        loop.stop(Duration.ofSeconds(5));
        assertThat(runs.get()).isGreaterThanOrEqualTo(2);
    }
}
