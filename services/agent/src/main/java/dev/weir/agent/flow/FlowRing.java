package dev.weir.agent.flow;

import dev.weir.proto.flow.v1.Flow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The node's most recent flows, for the Observer API: a fixed ring that overwrites the oldest,
 * and live subscribers for follow mode. A subscriber must not block: it is called on the flow
 * reader's thread.
 */
public final class FlowRing {

    private final Flow[] ring;
    private long written;
    private final List<Consumer<Flow>> followers = new CopyOnWriteArrayList<>();

    public FlowRing(int capacity) {
        this.ring = new Flow[capacity];
    }

    public void add(Flow flow) {
        synchronized (this) {
            ring[(int) (written++ % ring.length)] = flow;
        }
        for (Consumer<Flow> follower : followers) {
            follower.accept(flow);
        }
    }

    /** The flows held now, oldest first. */
    public synchronized List<Flow> snapshot() {
        int held = (int) Math.min(written, ring.length);
        List<Flow> flows = new ArrayList<>(held);
        for (long i = written - held; i < written; i++) {
            flows.add(ring[(int) (i % ring.length)]);
        }
        return flows;
    }

    public synchronized long seen() {
        return written;
    }

    public int capacity() {
        return ring.length;
    }

    public Runnable follow(Consumer<Flow> follower) {
        followers.add(follower);
        return () -> followers.remove(follower);
    }
}
