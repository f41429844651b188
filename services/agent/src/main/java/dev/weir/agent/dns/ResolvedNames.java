package dev.weir.agent.dns;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The names this node's pods resolved, by the address the answer gave: a flow from a pod to an
 * address carries the names that pod resolved to it (Hubble's destination_names), and a flow back
 * the source_names. Only answers the {@link DnsAnswerGate} trusts are learned (a resolver's answer
 * to the pod's own query), so a pod cannot name another pod's traffic. An entry lives for its
 * answer's TTL (at least {@link #MIN_TTL_MS}, as DNS clients cache briefly past zero); the table is
 * bounded, the least recently used entry giving way, and a client keeps at most
 * {@link #MAX_NAMES_PER_ADDRESS} names for one address. Used by the flow reader's thread only.
 */
public final class ResolvedNames {

    static final long MIN_TTL_MS = 30_000;
    static final int MAX_NAMES_PER_ADDRESS = 4;

    private record Key(String client, String address) {
    }

    private static final class Names {
        final List<String> names = new ArrayList<>(1);
        final List<Long> expires = new ArrayList<>(1);
    }

    private final int capacity;
    private final Map<Key, Names> entries;

    public ResolvedNames(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Names> eldest) {
                return size() > ResolvedNames.this.capacity;
            }
        };
    }

    /** A trusted answer: client resolved name to these addresses, valid for ttlSeconds. */
    public void learn(String client, String name, List<String> addresses, int ttlSeconds, long nowMillis) {
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        long expires = nowMillis + Math.max(MIN_TTL_MS, ttlSeconds * 1000L);
        for (String address : addresses) {
            Names names = entries.computeIfAbsent(new Key(client, address), k -> new Names());
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

    /** The names client resolved to address and may still use, oldest first; empty if none. */
    public List<String> of(String client, String address, long nowMillis) {
        Names names = entries.get(new Key(client, address));
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
            entries.remove(new Key(client, address));
            return List.of();
        }
        return List.copyOf(names.names);
    }

    public int size() {
        return entries.size();
    }
}
