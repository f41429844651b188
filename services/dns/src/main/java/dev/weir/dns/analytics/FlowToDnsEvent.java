package dev.weir.dns.analytics;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.common.kafka.DeadLetter;
import dev.weir.proto.dns.v1.DnsEvent;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Decodes flows and forwards the DNS events among them, keyed by client. A record that does not
 * decode goes to the dead-letter topic, unchanged, with the reason in its headers, and the stream
 * carries on.
 */
final class FlowToDnsEvent extends ContextualProcessor<byte[], byte[], Object, Object> {

    static final String NAME = "decode-flows";
    /** The child that takes records that are no flow, unchanged. */
    static final String DEAD_LETTERS = "dead-letters";

    private final String group;
    private final DnsFlowReader reader = new DnsFlowReader();

    FlowToDnsEvent(String group) {
        this.group = group;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        DnsFlowFields flow;
        try {
            // Only the fields the analytics read are decoded; the rest of the flow is skipped unparsed.
            flow = reader.read(record.value() == null ? new byte[0] : record.value());
        } catch (InvalidProtocolBufferException e) {
            deadLetter(record, "not a weir.flow.v1.Flow: " + e.getMessage());
            return;
        }
        DnsEvents.of(flow).ifPresent(event -> context().forward(
                new Record<Object, Object>(DnsEvents.clientKey(event), event, record.timestamp()), ClientAnalyzer.NAME));
    }

    private void deadLetter(Record<byte[], byte[]> record, String reason) {
        Record<Object, Object> dead = new Record<Object, Object>(record.key(), record.value(), record.timestamp());
        var metadata = context().recordMetadata();
        dead.headers().add(DeadLetter.REASON, reason.getBytes(StandardCharsets.UTF_8));
        dead.headers().add(DeadLetter.CONSUMER_GROUP, group.getBytes(StandardCharsets.UTF_8));
        metadata.ifPresent(m -> {
            dead.headers().add(DeadLetter.ORIGINAL_TOPIC, m.topic().getBytes(StandardCharsets.UTF_8));
            dead.headers().add(DeadLetter.ORIGINAL_PARTITION, Integer.toString(m.partition()).getBytes(StandardCharsets.UTF_8));
            dead.headers().add(DeadLetter.ORIGINAL_OFFSET, Long.toString(m.offset()).getBytes(StandardCharsets.UTF_8));
        });
        dead.headers().add(DeadLetter.FAILED_AT,
                java.time.Instant.ofEpochMilli(context().currentSystemTimeMs()).toString().getBytes(StandardCharsets.UTF_8));
        context().forward(dead, DEAD_LETTERS);
    }
}
