package dev.weir.agent;

import com.google.protobuf.util.Timestamps;
import dev.weir.proto.state.v1.NodeStatus;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The agent's heartbeat on the node-status topic (compacted, keyed by node): every few seconds,
 * its flow counters, endpoints and map pressure. Alerting notices a node whose heartbeats stop.
 */
final class Heartbeat implements AutoCloseable {

    static final long INTERVAL_SECONDS = 10;

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weir-heartbeat");
        t.setDaemon(true);
        return t;
    });

    Heartbeat(String node, String version, Producer<String, byte[]> producer, String topic, LongSupplier flowsSeen,
            LongSupplier flowsLost, IntSupplier endpoints, DoubleSupplier mapPressure) {
        com.google.protobuf.Timestamp started = Timestamps.now();
        scheduler.scheduleAtFixedRate(() -> {
            NodeStatus status = NodeStatus.newBuilder().setNodeName(node).setVersion(version)
                    .setTime(Timestamps.now())
                    .setFlowsSeen(flowsSeen.getAsLong()).setFlowsLost(flowsLost.getAsLong())
                    .setEndpoints(endpoints.getAsInt()).setMaxMapPressure(mapPressure.getAsDouble()).setStarted(started).build();
            producer.send(new ProducerRecord<>(topic, node, status.toByteArray()));
        }, 0, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
