package dev.weir.dns.analytics;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.weir.common.kafka.DeadLetter;
import dev.weir.proto.dns.v1.DnsEvent;
import java.time.Instant;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
        // Unchanged: the key's bytes, the value and the record's own headers, with why and where added.
        Record<Object, Object> dead = new Record<Object, Object>(record.key(), record.value(), record.timestamp(),
                new RecordHeaders(record.headers().toArray()));
        var metadata = context().recordMetadata();
        DeadLetter.annotate(dead.headers(), reason, group, metadata.map(m -> m.topic()).orElse(null),
                metadata.map(m -> m.partition()).orElse(-1), metadata.map(m -> m.offset()).orElse(-1L),
                Instant.ofEpochMilli(context().currentSystemTimeMs()));
        context().forward(dead, DEAD_LETTERS);
    }
}
