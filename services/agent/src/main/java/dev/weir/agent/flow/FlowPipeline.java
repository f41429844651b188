package dev.weir.agent.flow;

import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.DatapathEvent;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.observer.v1.LostEventSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kernel events to Kafka. A reader thread drains the ring buffer in batches, decodes and enriches
 * each event and offers the flow to a bounded queue, never waiting: when the queue is full (Kafka
 * slow or down) the flow is counted lost and the reader goes on, so the ring buffer keeps draining
 * and enforcement is never affected. A publisher thread sends from the queue to Kafka, keyed by
 * node so one node's flows stay in order; a flow Kafka does not take or acknowledge in time is
 * counted lost too.
 */
public final class FlowPipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FlowPipeline.class);
    private static final int DRAIN_RECORDS = 4096;
    private static final int DRAIN_TIMEOUT_MS = 100;

    /** Observes the pipeline, for metrics. */
    public interface Listener {
        void drained(int records);

        void flow(Flow flow);
    }

    private final Datapath datapath;
    private final FlowBuilder builder;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final String node;
    private final FlowRing ring;
    private final LostEvents lost;
    private final Listener listener;
    private final BlockingQueue<Flow> queue;
    private final ByteBuffer drainBuffer = ByteBuffer.allocateDirect(4 << 20).order(ByteOrder.nativeOrder());
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private long datapathLostSeen;
    private dev.weir.common.Supervised reader;
    private dev.weir.common.Supervised publisher;

    public FlowPipeline(Datapath datapath, FlowBuilder builder, Producer<String, byte[]> producer, String topic,
            String node, int queueCapacity, FlowRing ring, LostEvents lost, Listener listener) {
        this.datapath = datapath;
        this.builder = builder;
        this.producer = producer;
        this.topic = topic;
        this.node = node;
        this.ring = ring;
        this.lost = lost;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
    }

    public void start() {
        datapathLostSeen = datapath.eventsLost();
        reader = new dev.weir.common.Supervised("weir-flow-reader", this::readLoop).start();
        publisher = new dev.weir.common.Supervised("weir-flow-publisher", this::publishLoop).start();
    }

    /** Both loops run (neither failed and waits to restart). */
    public boolean healthy() {
        return reader != null && reader.healthy() && publisher != null && publisher.healthy();
    }

    /** The loops (reader, publisher), for their restart counts. */
    public List<dev.weir.common.Supervised> loops() {
        return reader == null ? List.of() : List.of(reader, publisher);
    }

    private void readLoop(dev.weir.common.Supervised.Control control) {
        while (control.running()) {
            try {
                int bytes = datapath.drain(drainBuffer, DRAIN_RECORDS, DRAIN_TIMEOUT_MS);
                int records = 0;
                for (int at = 0; at < bytes;) {
                    int length = drainBuffer.getInt(at);
                    int start = at + MapLayout.RECORD_HEADER_SIZE;
                    at = start + ((length + 7) & ~7);
                    records++;
                    handle(start, length);
                }
                read.addAndGet(records);
                if (records > 0) {
                    listener.drained(records);
                }
                long datapathLost = datapath.eventsLost();
                if (datapathLost > datapathLostSeen) {
                    lost.add(LostEventSource.DATAPATH_RING_BUFFER, datapathLost - datapathLostSeen);
                    datapathLostSeen = datapathLost;
                }
            } catch (RuntimeException e) {
                // The reader must not die: a failing drain is logged and retried.
                LOG.error("draining datapath events failed", e);
                sleepQuietly(100);
            }
        }
    }

    private void handle(int start, int length) {
        Flow flow;
        try {
            flow = builder.build(DatapathEvent.decode(drainBuffer, start, length));
        } catch (DatapathEvent.UndecodableEvent | RuntimeException e) {
            lost.add(LostEventSource.DECODE_ERROR, 1);
            LOG.debug("undecodable datapath event: {}", e.getMessage());
            return;
        }
        ring.add(flow);
        listener.flow(flow);
        if (!queue.offer(flow)) {
            lost.add(LostEventSource.AGENT_PUBLISH_BUFFER, 1);
        }
    }

    /** Sends what the reader queued; asked to finish, it sends what is left first. */
    private void publishLoop(dev.weir.common.Supervised.Control control) {
        List<Flow> batch = new ArrayList<>(1024);
        while (control.running() || !queue.isEmpty()) {
            try {
                Flow first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, 1023);
                for (Flow flow : batch) {
                    send(flow);
                }
                batch.clear();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void send(Flow flow) {
        inFlight.incrementAndGet();
        try {
            producer.send(new ProducerRecord<>(topic, node, flow.toByteArray()), (metadata, error) -> {
                inFlight.decrementAndGet();
                if (error == null) {
                    delivered.incrementAndGet();
                } else {
                    lost.add(LostEventSource.KAFKA_DELIVERY, 1);
                }
            });
        } catch (RuntimeException e) {
            // Buffer full for longer than max.block.ms, or the producer is closed.
            inFlight.decrementAndGet();
            lost.add(LostEventSource.KAFKA_DELIVERY, 1);
        }
    }

    /** Events read from the ring buffer (decoded or not). */
    public long read() {
        return read.get();
    }

    /** Flows Kafka acknowledged. */
    public long delivered() {
        return delivered.get();
    }

    /** Flows accepted by the producer and not yet acknowledged or failed, plus queued ones. */
    public long pending() {
        return inFlight.get() + queue.size();
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            if (reader != null) {
                reader.finish(java.time.Duration.ofSeconds(2));
            }
            if (publisher != null) {
                publisher.finish(java.time.Duration.ofSeconds(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.flush();
    }
}
