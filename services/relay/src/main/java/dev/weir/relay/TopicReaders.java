package dev.weir.relay;

import dev.weir.common.kafka.KafkaClients;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The relay reads topics as a reader, not as a member of a consumer group: every partition
 * assigned to one consumer, positions chosen by the relay, nothing committed.
 */
final class TopicReaders {

    private TopicReaders() {
    }

    static KafkaConsumer<String, byte[]> consumer(dev.weir.common.kafka.KafkaConnection kafka, String clientId) {
        return new KafkaConsumer<>(config(kafka, clientId));
    }

    /** A reader's settings (no group, nothing committed), for callers that add their own. */
    static Map<String, Object> config(dev.weir.common.kafka.KafkaConnection kafka, String clientId) {
        Map<String, Object> config = KafkaClients.consumerConfig(kafka, clientId);
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        return config;
    }

    /** Every partition of the topic. */
    static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        return partitions;
    }

    /** Assigns every partition of the topic to the consumer and returns them. */
    static List<TopicPartition> assignAll(KafkaConsumer<?, ?> consumer, String topic) {
        List<TopicPartition> partitions = partitions(consumer, topic);
        consumer.assign(partitions);
        return partitions;
    }
}
