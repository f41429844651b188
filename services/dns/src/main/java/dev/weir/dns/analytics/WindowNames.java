package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.NameCount;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The names one client asked for in its current window, by kind, counted in its state's maps.
 * Each kind is bounded: a name first seen past {@link DnsSettings#MAX_NAMES} distinct ones is not
 * tracked, so a pod asking for endless random names cannot grow its state.
 */
final class WindowNames {

    enum Kind {
        ASKED,
        NXDOMAIN,
        /** Names asked as they are (no search suffix) and answered NXDOMAIN: the end of a failed lookup. */
        FAILED_AS_ASKED,
        /** Names (without the search suffix that made the query) that got an answer. */
        RESOLVED
    }

    private final DnsClientState.Builder state;

    WindowNames(DnsClientState.Builder state) {
        this.state = state;
    }

    void count(Kind kind, String name) {
        Map<String, Long> names = view(kind);
        Long current = names.get(name);
        if (current == null && names.size() >= DnsSettings.MAX_NAMES) {
            return;
        }
        long next = current == null ? 1 : current + 1;
        switch (kind) {
            case ASKED -> state.putAskedNames(name, next);
            case NXDOMAIN -> state.putNxdomainNames(name, next);
            case FAILED_AS_ASKED -> state.putFailedAsAskedNames(name, next);
            case RESOLVED -> state.putResolvedNames(name, next);
        }
    }

    /** The window's most counted names of a kind, most first (ties by name). */
    List<NameCount> top(Kind kind, int top) {
        return view(kind).entrySet().stream()
                .sorted(Comparator.comparing((Map.Entry<String, Long> e) -> -e.getValue()).thenComparing(Map.Entry::getKey))
                .limit(top).map(e -> NameCount.newBuilder().setName(e.getKey()).setCount(e.getValue()).build()).toList();
    }

    java.util.Set<String> all(Kind kind) {
        return view(kind).keySet();
    }

    /** A new window counts from nothing. */
    void clear() {
        state.clearAskedNames().clearNxdomainNames().clearFailedAsAskedNames().clearResolvedNames();
    }

    private Map<String, Long> view(Kind kind) {
        return switch (kind) {
            case ASKED -> state.getAskedNamesMap();
            case NXDOMAIN -> state.getNxdomainNamesMap();
            case FAILED_AS_ASKED -> state.getFailedAsAskedNamesMap();
            case RESOLVED -> state.getResolvedNamesMap();
        };
    }
}
