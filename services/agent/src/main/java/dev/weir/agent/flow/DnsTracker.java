package dev.weir.agent.flow;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Pairs DNS responses with their queries, by client address and port and message id, to measure
 * latency; a query without a response within the timeout counts as unanswered. The same packet
 * may be seen twice on one node (the client's egress and the server's ingress): the first sighting
 * of a query starts the clock, the first sighting of its response stops it.
 * Bounded: past maxPending outstanding queries, the oldest is dropped and counted as overflow.
 * Used by the flow reader's thread only.
 */
public final class DnsTracker {

    private record Key(String client, int port, int id) {
    }

    private final Map<Key, Long> pending = new LinkedHashMap<>();
    private final long timeoutNs;
    private final int maxPending;
    private long unanswered;
    private long overflow;

    public DnsTracker(Duration timeout, int maxPending) {
        this.timeoutNs = timeout.toNanos();
        this.maxPending = maxPending;
    }

    public void query(String client, int port, int id, long timeNs) {
        expire(timeNs);
        Key key = new Key(client, port, id);
        if (pending.containsKey(key)) {
            return;
        }
        if (pending.size() >= maxPending) {
            Iterator<Key> oldest = pending.keySet().iterator();
            oldest.next();
            oldest.remove();
            overflow++;
        }
        pending.put(key, timeNs);
    }

    /** @return the latency in nanoseconds, or -1 when the query was not seen or already answered */
    public long response(String client, int port, int id, long timeNs) {
        Long asked = pending.remove(new Key(client, port, id));
        return asked == null ? -1 : Math.max(0, timeNs - asked);
    }

    /** Counts and forgets queries older than the timeout. */
    public void expire(long nowNs) {
        Iterator<Map.Entry<Key, Long>> entries = pending.entrySet().iterator();
        while (entries.hasNext()) {
            Map.Entry<Key, Long> entry = entries.next();
            if (nowNs - entry.getValue() < timeoutNs) {
                break; // insertion order is time order
            }
            entries.remove();
            unanswered++;
        }
    }

    public long unanswered() {
        return unanswered;
    }

    public long overflow() {
        return overflow;
    }

    public int pending() {
        return pending.size();
    }
}
