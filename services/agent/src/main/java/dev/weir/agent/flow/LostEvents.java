package dev.weir.agent.flow;

import dev.weir.proto.observer.v1.LostEventSource;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Flows lost on this node, by where they were lost: nothing is lost without being counted here. */
public final class LostEvents {

    private final Map<LostEventSource, AtomicLong> counts = new EnumMap<>(LostEventSource.class);

    public LostEvents() {
        for (LostEventSource source : LostEventSource.values()) {
            if (source != LostEventSource.UNRECOGNIZED) {
                counts.put(source, new AtomicLong());
            }
        }
    }

    public void add(LostEventSource source, long n) {
        counts.get(source).addAndGet(n);
    }

    public long get(LostEventSource source) {
        return counts.get(source).get();
    }

    public long total() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }

    public Map<LostEventSource, Long> snapshot() {
        Map<LostEventSource, Long> copy = new EnumMap<>(LostEventSource.class);
        counts.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }
}
