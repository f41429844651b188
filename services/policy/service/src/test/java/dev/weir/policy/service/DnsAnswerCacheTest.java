package dev.weir.policy.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DnsAnswerCacheTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void keepsEveryAddressOfARoundRobinNameUntilItsAnswerExpires() {
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60), Duration.ofHours(24), 64);
        assertTrue(cache.observe("api.example.com.", List.of("203.0.113.1"), 300, T0, T0));
        assertTrue(cache.observe("api.example.com.", List.of("203.0.113.2"), 300, T0.plusSeconds(100), T0.plusSeconds(100)));
        assertEquals(Map.of("api.example.com.", Set.of("203.0.113.1", "203.0.113.2")), cache.snapshot());

        assertTrue(cache.expire(T0.plusSeconds(300)));
        assertEquals(Map.of("api.example.com.", Set.of("203.0.113.2")), cache.snapshot());
        assertTrue(cache.expire(T0.plusSeconds(400)));
        assertEquals(Map.of(), cache.snapshot());
        assertFalse(cache.expire(T0.plusSeconds(500)));
    }

    @Test
    void aShortTtlLastsTheMinimumAndARefreshIsNoChange() {
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60), Duration.ofHours(24), 64);
        assertTrue(cache.observe("a.example.", List.of("203.0.113.9"), 1, T0, T0));
        assertFalse(cache.expire(T0.plusSeconds(30)), "the minimum TTL keeps it");
        assertFalse(cache.observe("a.example.", List.of("203.0.113.9"), 1, T0.plusSeconds(50), T0.plusSeconds(50)),
                "a refreshed address changes nothing allowed");
        assertFalse(cache.expire(T0.plusSeconds(100)), "the refresh extended it");
        assertTrue(cache.expire(T0.plusSeconds(110)));
    }

    @Test
    void anAnswerReplayedAfterItExpiredAllowsNothing() {
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60), Duration.ofHours(24), 64);
        assertFalse(cache.observe("old.example.", List.of("203.0.113.7"), 30, T0, T0.plusSeconds(3600)));
        assertEquals(Map.of(), cache.snapshot());
    }

    @Test
    void aNameHoldsAtMostItsMaximumOfAddressesForAtMostTheMaximumTtl() {
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60), Duration.ofHours(1), 3);
        Instant now = Instant.parse("2026-12-01T00:00:00Z");
        cache.observe("api.example.com.", java.util.List.of("198.18.9.1", "198.18.9.2"), 600, now, now);
        cache.observe("api.example.com.", java.util.List.of("198.18.9.3", "198.18.9.4"), 900, now, now);
        // The two expiring first gave way to the newer ones: three at most.
        org.assertj.core.api.Assertions.assertThat(cache.snapshot().get("api.example.com."))
                .hasSize(3).contains("198.18.9.3", "198.18.9.4");
        // A TTL of a year counts as an hour.
        cache.observe("long.example.com.", java.util.List.of("198.18.9.9"), 31_536_000, now, now);
        cache.expire(now.plus(Duration.ofMinutes(61)));
        org.assertj.core.api.Assertions.assertThat(cache.snapshot()).doesNotContainKey("long.example.com.");
    }
}
