package dev.weir.schemas;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * One topic of the catalogue.
 *
 * @param valueType fully qualified protobuf message name, or {@code "bytes"} for raw records
 * @param retention empty for "forever"
 */
public record TopicSpec(
        TopicId id,
        String name,
        String key,
        String valueType,
        int partitions,
        CleanupPolicy cleanup,
        Optional<Duration> retention,
        String description) {

    public static final String RAW_BYTES = "bytes";

    public enum CleanupPolicy {
        COMPACT("compact"),
        DELETE("delete");

        private final String kafkaValue;

        CleanupPolicy(String kafkaValue) {
            this.kafkaValue = kafkaValue;
        }

        /** The value of Kafka's {@code cleanup.policy} topic config. */
        public String kafkaValue() {
            return kafkaValue;
        }
    }

    public boolean compacted() {
        return cleanup == CleanupPolicy.COMPACT;
    }

    /** Retention as the catalogue writes it: "forever", whole days as "P7D", else ISO-8601. */
    public String retentionText() {
        return retention.map(d -> d.toSeconds() % 86_400 == 0 && d.toNanosPart() == 0 ? "P" + d.toDays() + "D" : d.toString())
                .orElse("forever");
    }

    /** The topic-level configs to create the topic with. */
    public Map<String, String> kafkaConfigs() {
        return Map.of(
                "cleanup.policy", cleanup.kafkaValue(),
                "retention.ms", Long.toString(retention.map(Duration::toMillis).orElse(-1L)));
    }
}
