package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.NameCount;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names one client asked for in its current window, by kind. Each kind is bounded: a name
 * first seen past {@link DnsSettings#MAX_NAMES} distinct ones is not tracked, so a pod asking for
 * endless random names cannot grow its state. Counted in plain maps between events (up to five
 * counts an event) and written to the state's maps only when the state is encoded.
 */
final class WindowNames {

    enum Kind {
        ASKED,
        NXDOMAIN,
        /** Names asked as they are (no search suffix) and answered NXDOMAIN: the end of a failed lookup. */
        FAILED_AS_ASKED,
        /** Names (without the search suffix that made the query) that got an answer. */
        RESOLVED,
        /** Names answered REFUSED or SERVFAIL. */
        REFUSED
    }

    /** A count that is incremented in place: one map lookup a count. */
    private static final class Count {
        long value;
    }

    /** In insertion order, as the state's maps keep them. */
    private final Map<Kind, LinkedHashMap<String, Count>> counts = new EnumMap<>(Kind.class);

    WindowNames(DnsClientState.Builder state) {
        for (Kind kind : Kind.values()) {
            LinkedHashMap<String, Count> names = new LinkedHashMap<>();
            stored(state, kind).forEach((name, value) -> names.computeIfAbsent(name, n -> new Count()).value = value);
            counts.put(kind, names);
        }
        clearFrom(state);
    }

    void count(Kind kind, String name) {
        LinkedHashMap<String, Count> names = counts.get(kind);
        Count count = names.get(name);
        if (count == null) {
            if (names.size() >= DnsSettings.MAX_NAMES) {
                return;
            }
            count = new Count();
            names.put(name, count);
        }
        count.value++;
    }

    /** The window's most counted names of a kind, most first (ties by name). */
    List<NameCount> top(Kind kind, int top) {
        List<Map.Entry<String, Count>> entries = new ArrayList<>(counts.get(kind).entrySet());
        entries.sort(Comparator.comparing((Map.Entry<String, Count> e) -> -e.getValue().value)
                .thenComparing(Map.Entry::getKey));
        return entries.stream().limit(top)
                .map(e -> NameCount.newBuilder().setName(e.getKey()).setCount(e.getValue().value).build()).toList();
    }

    Set<String> all(Kind kind) {
        return counts.get(kind).keySet();
    }

    /** A new window counts from nothing. */
    void clear() {
        counts.values().forEach(Map::clear);
    }

    /** Into the state record, before it is encoded. */
    void writeTo(DnsClientState.Builder state) {
        clearFrom(state);
        counts.forEach((kind, names) -> names.forEach((name, count) -> {
            switch (kind) {
                case ASKED -> state.putAskedNames(name, count.value);
                case NXDOMAIN -> state.putNxdomainNames(name, count.value);
                case FAILED_AS_ASKED -> state.putFailedAsAskedNames(name, count.value);
                case RESOLVED -> state.putResolvedNames(name, count.value);
                case REFUSED -> state.putRefusedNames(name, count.value);
            }
        }));
    }

    /** Out of the state record once it is encoded: the counts here are the truth. */
    void clearFrom(DnsClientState.Builder state) {
        state.clearAskedNames().clearNxdomainNames().clearFailedAsAskedNames().clearResolvedNames().clearRefusedNames();
    }

    private static Map<String, Long> stored(DnsClientState.Builder state, Kind kind) {
        return switch (kind) {
            case ASKED -> state.getAskedNamesMap();
            case NXDOMAIN -> state.getNxdomainNamesMap();
            case FAILED_AS_ASKED -> state.getFailedAsAskedNamesMap();
            case RESOLVED -> state.getResolvedNamesMap();
            case REFUSED -> state.getRefusedNamesMap();
        };
    }
}
