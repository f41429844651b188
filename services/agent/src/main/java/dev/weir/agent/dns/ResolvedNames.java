package dev.weir.agent.dns;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The names this node's pods resolved, by the address the answer gave: a flow from a pod to an
 * address carries the names that pod resolved to it (Hubble's destination_names), and a flow back
 * the source_names. Only answers the {@link DnsAnswerGate} trusts are learned (a resolver's answer
 * to the pod's own query), so a pod names only its own traffic; the names are its claims (a pod
 * may resolve a zone it controls to any address), not identities.
 *
 * <p>Kept per endpoint (not per address: a dual-stack pod asks over one family and connects over
 * the other, and an address may pass to another pod). Bounded so that one pod resolving names
 * without end cannot take the memory or evict the others' names: each endpoint keeps at most
 * {@link #PER_ENDPOINT} addresses (its least recently used giving way, expired ones first), each
 * address at most {@link #MAX_NAMES_PER_ADDRESS} names of at most 253 characters, and all
 * endpoints together at most {@code capacity} addresses (past it, the endpoint holding the most
 * gives way: a few kilobytes an address at the very worst, about 200 bytes as names are). An entry lives for its answer's TTL, at least
 * {@link #MIN_TTL_MS} (clients cache briefly past zero). Used by the flow reader's thread only.
 */
public final class ResolvedNames {

    static final long MIN_TTL_MS = 30_000;
    static final int MAX_NAMES_PER_ADDRESS = 4;
    static final int PER_ENDPOINT = 256;
    private static final int MAX_NAME = 253;

    private static final class Names {
        final List<String> names = new ArrayList<>(1);
        final List<Long> expires = new ArrayList<>(1);

        long latest() {
            long latest = 0;
            for (long e : expires) {
                latest = Math.max(latest, e);
            }
            return latest;
        }
    }

    private final int capacity;
    private final Map<Integer, LinkedHashMap<String, Names>> byEndpoint = new LinkedHashMap<>();
    private int total;
    private long evicted;

    public ResolvedNames(int capacity) {
        this.capacity = capacity;
    }

    /** A trusted answer: the endpoint resolved name to these addresses, valid for ttlSeconds. */
    public void learn(int endpoint, String name, List<String> addresses, int ttlSeconds, long nowMillis) {
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (bare.isEmpty() || bare.length() > MAX_NAME) {
            return;
        }
        long expires = nowMillis + Math.max(MIN_TTL_MS, ttlSeconds * 1000L);
        LinkedHashMap<String, Names> known = byEndpoint.computeIfAbsent(endpoint, e -> new LinkedHashMap<>(16, 0.75f, true));
        for (String address : addresses) {
            Names names = known.get(address);
            if (names == null) {
                makeRoom(known, nowMillis);
                names = new Names();
                known.put(address, names);
                total++;
            }
            int at = names.names.indexOf(bare);
            if (at >= 0) {
                names.expires.set(at, expires);
                continue;
            }
            if (names.names.size() >= MAX_NAMES_PER_ADDRESS) {
                names.names.remove(0);
                names.expires.remove(0);
            }
            names.names.add(bare);
            names.expires.add(expires);
        }
    }

    /**
     * Room for one more address of an endpoint: within its own bound (expired entries first, else
     * its least recently used), and within the total (the endpoint holding the most gives way).
     */
    private void makeRoom(LinkedHashMap<String, Names> known, long nowMillis) {
        if (known.size() >= PER_ENDPOINT) {
            evictOne(known, nowMillis);
        } else if (total >= capacity) {
            LinkedHashMap<String, Names> largest = known;
            for (LinkedHashMap<String, Names> other : byEndpoint.values()) {
                if (other.size() > largest.size()) {
                    largest = other;
                }
            }
            if (!largest.isEmpty()) {
                evictOne(largest, nowMillis);
            }
        }
    }

    private void evictOne(LinkedHashMap<String, Names> known, long nowMillis) {
        Iterator<Names> eldest = known.values().iterator();
        for (int checked = 0; checked < 8 && eldest.hasNext(); checked++) {
            if (eldest.next().latest() < nowMillis) {
                eldest.remove();
                total--;
                return;
            }
        }
        Iterator<String> lru = known.keySet().iterator();
        lru.next();
        lru.remove();
        total--;
        evicted++;
    }

    /** The names the endpoint resolved to address and may still use, oldest first; empty if none. */
    public List<String> of(int endpoint, String address, long nowMillis) {
        LinkedHashMap<String, Names> known = byEndpoint.get(endpoint);
        Names names = known == null ? null : known.get(address);
        if (names == null) {
            return List.of();
        }
        for (int i = names.names.size() - 1; i >= 0; i--) {
            if (names.expires.get(i) < nowMillis) {
                names.names.remove(i);
                names.expires.remove(i);
            }
        }
        if (names.names.isEmpty()) {
            known.remove(address);
            total--;
            return List.of();
        }
        return List.copyOf(names.names);
    }

    /** Addresses with names, over all endpoints. */
    public int size() {
        return total;
    }

    /** Addresses an endpoint's bound pushed out before they expired. */
    public long evicted() {
        return evicted;
    }
}
