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
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60));
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
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60));
        assertTrue(cache.observe("a.example.", List.of("203.0.113.9"), 1, T0, T0));
        assertFalse(cache.expire(T0.plusSeconds(30)), "the minimum TTL keeps it");
        assertFalse(cache.observe("a.example.", List.of("203.0.113.9"), 1, T0.plusSeconds(50), T0.plusSeconds(50)),
                "a refreshed address changes nothing allowed");
        assertFalse(cache.expire(T0.plusSeconds(100)), "the refresh extended it");
        assertTrue(cache.expire(T0.plusSeconds(110)));
    }

    @Test
    void anAnswerReplayedAfterItExpiredAllowsNothing() {
        DnsAnswerCache cache = new DnsAnswerCache(Duration.ofSeconds(60));
        assertFalse(cache.observe("old.example.", List.of("203.0.113.7"), 30, T0, T0.plusSeconds(3600)));
        assertEquals(Map.of(), cache.snapshot());
    }
}
