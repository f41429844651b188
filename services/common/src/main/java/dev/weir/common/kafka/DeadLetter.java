package dev.weir.common.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;

/**
 * How a record that cannot be processed is kept: unchanged (key, value and its own headers) on the
 * dead-letter topic, with headers that say why and where it came from, so it can be inspected and
 * replayed.
 */
public final class DeadLetter {

    public static final String REASON = "weir.dlt.reason";
    public static final String ORIGINAL_TOPIC = "weir.dlt.topic";
    public static final String ORIGINAL_PARTITION = "weir.dlt.partition";
    public static final String ORIGINAL_OFFSET = "weir.dlt.offset";
    public static final String CONSUMER_GROUP = "weir.dlt.group";
    public static final String FAILED_AT = "weir.dlt.time";

    /** Reasons are cut to this many characters: a header is no place for a stack trace. */
    static final int MAX_REASON = 1024;

    private DeadLetter() {
    }

    public static ProducerRecord<String, byte[]> of(ConsumerRecord<String, byte[]> failed, String deadLetterTopic,
            String consumerGroup, String reason) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(deadLetterTopic, null, failed.key(), failed.value(),
                failed.headers());
        annotate(record.headers(), reason, consumerGroup, failed.topic(), failed.partition(), failed.offset(), Instant.now());
        return record;
    }

    /**
     * Adds to a failed record's own headers why and where it failed (replacing those of an earlier
     * failure, so a record dead-lettered twice says the last reason once); the topic is null when
     * unknown.
     */
    public static void annotate(Headers headers, String reason, String consumerGroup, String topic, int partition,
            long offset, Instant failedAt) {
        put(headers, REASON, reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) : reason);
        if (topic != null) {
            put(headers, ORIGINAL_TOPIC, topic);
            put(headers, ORIGINAL_PARTITION, Integer.toString(partition));
            put(headers, ORIGINAL_OFFSET, Long.toString(offset));
        }
        put(headers, CONSUMER_GROUP, consumerGroup);
        put(headers, FAILED_AT, failedAt.toString());
    }

    /** The value of a header as text, or null. */
    public static String header(Headers headers, String name) {
        var header = headers.lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
