package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.NameCount;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The names each client asked for (and had answered NXDOMAIN) in its current window, one small
 * record per client and name ("client NUL kind name" → count), so counting a name rewrites a
 * counter, not the client's whole state.
 */
final class WindowNames {

    static final String STORE = "dns-client-names";
    static final char ASKED = 'q';
    static final char NXDOMAIN = 'x';
    /** Names asked as they are (no search suffix) and answered NXDOMAIN: the end of a failed lookup. */
    static final char FAILED_AS_ASKED = 'u';
    /** Names (without the search suffix that made the query) that got an answer. */
    static final char RESOLVED = 'r';

    private final KeyValueStore<String, Long> store;

    WindowNames(KeyValueStore<String, Long> store) {
        this.store = store;
    }

    /** Counts a name; returns whether it is new in this window. */
    boolean count(String client, char kind, String name) {
        String key = prefix(client, kind) + name;
        Long current = store.get(key);
        store.put(key, current == null ? 1 : current + 1);
        return current == null;
    }

    boolean known(String client, char kind, String name) {
        return store.get(prefix(client, kind) + name) != null;
    }

    /** The window's most counted names, and forgets them all. */
    List<NameCount> drain(String client, char kind, int top) {
        String prefix = prefix(client, kind);
        List<KeyValue<String, Long>> all = new ArrayList<>();
        try (KeyValueIterator<String, Long> names = store.prefixScan(prefix, new StringSerializer())) {
            names.forEachRemaining(all::add);
        }
        all.forEach(kv -> store.delete(kv.key));
        return all.stream()
                .sorted(Comparator.comparing((KeyValue<String, Long> kv) -> -kv.value).thenComparing(kv -> kv.key))
                .limit(top)
                .map(kv -> NameCount.newBuilder().setName(kv.key.substring(prefix.length())).setCount(kv.value).build())
                .toList();
    }

    private static String prefix(String client, char kind) {
        return client + '\u0000' + kind;
    }
}
