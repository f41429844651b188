package dev.weir.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.proto.state.v1.NodeStatus;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The cluster's nodes as their agents report them: the last heartbeat of each (the compacted
 * node-status topic, read from its start and then followed). A node is connected while its
 * heartbeats (every 10 s) keep coming, unavailable after 30 s of silence, gone when its agent
 * deleted its record (a tombstone).
 */
@Component
public class NodeDirectory {

    public enum State { CONNECTED, UNAVAILABLE }

    /** @param started when the node's agent started (null from agents before it said so) */
    public record NodeView(String name, String version, State state, Instant lastSeen, long flowsSeen, long flowsLost,
            int endpoints, double maxMapPressure, Instant started) {
    }

    static final Duration SILENCE = Duration.ofSeconds(30);
    private static final Logger log = LoggerFactory.getLogger(NodeDirectory.class);

    private final dev.weir.common.kafka.KafkaConnection kafka;
    private final String topic = TopicCatalogue.standard().name(TopicId.NODE_STATUS);
    private final Map<String, NodeStatus> nodes = new ConcurrentSkipListMap<>();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread reader;

    public NodeDirectory(RelayApplication.RelayProperties properties) {
        this.kafka = properties.kafka();
    }

    @PostConstruct
    void start() {
        reader = new Thread(this::run, "weir-relay-nodes");
        reader.setDaemon(true);
        reader.start();
    }

    private void run() {
        while (!Thread.currentThread().isInterrupted()) {
            try (KafkaConsumer<String, byte[]> c = TopicReaders.consumer(kafka, "weir-relay-nodes")) {
                consumer = c;
                c.seekToBeginning(TopicReaders.assignAll(c, topic));
                while (!Thread.currentThread().isInterrupted()) {
                    for (ConsumerRecord<String, byte[]> record : c.poll(Duration.ofMillis(500))) {
                        apply(record.key(), record.value());
                    }
                }
            } catch (WakeupException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("reading node heartbeats failed ({}); retrying in 5 s", e.toString());
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    void apply(String node, byte[] value) {
        if (node == null) {
            return;
        }
        if (value == null) {
            nodes.remove(node);
            return;
        }
        try {
            nodes.put(node, NodeStatus.parseFrom(value));
        } catch (InvalidProtocolBufferException e) {
            log.debug("undecodable heartbeat of {}", node);
        }
    }

    public List<NodeView> nodes(Instant now) {
        List<NodeView> views = new ArrayList<>();
        nodes.forEach((name, s) -> {
            Instant last = Instant.ofEpochSecond(s.getTime().getSeconds(), s.getTime().getNanos());
            State state = Duration.between(last, now).compareTo(SILENCE) > 0 ? State.UNAVAILABLE : State.CONNECTED;
            views.add(new NodeView(name, s.getVersion(), state, last, s.getFlowsSeen(), s.getFlowsLost(), s.getEndpoints(),
                    s.getMaxMapPressure(), s.hasStarted() && com.google.protobuf.util.Timestamps.isValid(s.getStarted())
                            ? Instant.ofEpochSecond(s.getStarted().getSeconds(), s.getStarted().getNanos()) : null));
        });
        return views;
    }

    /** Sums over the nodes: how many report, flows seen and lost, endpoints, the fullest map. */
    public record Totals(int nodesConnected, int nodesUnavailable, long flowsSeen, long flowsLost, int endpoints,
            double maxMapPressure) {
    }

    public Totals totals(Instant now) {
        int connected = 0;
        int unavailable = 0;
        long seen = 0;
        long lost = 0;
        int endpoints = 0;
        double pressure = 0;
        for (NodeView n : nodes(now)) {
            if (n.state() == State.CONNECTED) {
                connected++;
            } else {
                unavailable++;
            }
            seen += n.flowsSeen();
            lost += n.flowsLost();
            endpoints += n.endpoints();
            pressure = Math.max(pressure, n.maxMapPressure());
        }
        return new Totals(connected, unavailable, seen, lost, endpoints, pressure);
    }

    @PreDestroy
    void close() {
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        reader.interrupt();
    }
}
