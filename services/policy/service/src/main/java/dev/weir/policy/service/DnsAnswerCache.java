package dev.weir.policy.service;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The addresses DNS answered for each name, as toFQDNs rules allow them. Every address a name
 * was answered with is kept until its answer expires (round-robin DNS hands out different
 * addresses to different pods, and each must stay allowed while a pod may still use it), at the
 * answer's TTL but never sooner than the minimum TTL: a pod keeps using an address after a short
 * TTL ends, as Cilium's tofqdns-min-ttl allows for. What one name may grant is bounded: a TTL
 * never counts beyond the maximum, and past the maximum number of addresses per name the ones
 * expiring first give way (the agents already refuse answers that did not come from the
 * cluster's resolvers for a query a pod made).
 */
final class DnsAnswerCache {

    private final Duration minTtl;
    private final Duration maxTtl;
    private final int maxAddresses;
    /** name → address → when its answer expires. */
    private final Map<String, Map<String, Instant>> answers = new HashMap<>();

    DnsAnswerCache(Duration minTtl, Duration maxTtl, int maxAddresses) {
        if (maxTtl.compareTo(minTtl) < 0 || maxAddresses < 1) {
            throw new IllegalArgumentException("weir.fqdn-max-ttl must be at least weir.fqdn-min-ttl, and "
                    + "weir.fqdn-max-addresses at least 1");
        }
        this.minTtl = minTtl;
        this.maxTtl = maxTtl;
        this.maxAddresses = maxAddresses;
    }

    /**
     * Records a successful answer observed at {@code time}; returns whether the name's allowed
     * addresses changed (a new address, not a refreshed one).
     */
    synchronized boolean observe(String name, Iterable<String> ips, long ttlSeconds, Instant time, Instant now) {
        Duration ttl = Duration.ofSeconds(Math.max(0, Math.min(ttlSeconds, maxTtl.toSeconds())));
        Instant expires = time.plus(ttl.compareTo(minTtl) < 0 ? minTtl : ttl);
        if (!expires.isAfter(now)) {
            return false; // replayed from long ago: already expired
        }
        Map<String, Instant> addresses = answers.computeIfAbsent(name, n -> new HashMap<>());
        boolean changed = false;
        for (String ip : ips) {
            Instant previous = addresses.get(ip);
            if (previous == null) {
                changed = true;
            }
            if (previous == null || expires.isAfter(previous)) {
                addresses.put(ip, expires);
            }
        }
        while (addresses.size() > maxAddresses) {
            addresses.entrySet().stream().min(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                    .ifPresent(addresses::remove);
            changed = true;
        }
        return changed;
    }

    /** Forgets the answers that expired by {@code now}; returns whether any address was forgotten. */
    synchronized boolean expire(Instant now) {
        boolean changed = false;
        for (var names = answers.values().iterator(); names.hasNext();) {
            Map<String, Instant> addresses = names.next();
            changed |= addresses.values().removeIf(expires -> !expires.isAfter(now));
            if (addresses.isEmpty()) {
                names.remove();
            }
        }
        return changed;
    }

    /** name → the addresses allowed for it now, for the compiler. */
    synchronized Map<String, Set<String>> snapshot() {
        Map<String, Set<String>> snapshot = new TreeMap<>();
        answers.forEach((name, addresses) -> snapshot.put(name, Set.copyOf(new TreeSet<>(addresses.keySet()))));
        return snapshot;
    }
}
