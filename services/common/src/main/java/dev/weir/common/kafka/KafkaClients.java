package dev.weir.common.kafka;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Client settings Weir uses everywhere: durable producers, consumers that commit by hand. */
public final class KafkaClients {

    private KafkaClients() {
    }

    /**
     * An idempotent producer of string keys and protobuf bytes: acks from all in-sync replicas,
     * batching and lz4 compression, ordered per key.
     */
    public static Map<String, Object> producerConfig(KafkaConnection kafka, String clientId) {
        Map<String, Object> config = kafka.applyTo(new HashMap<>());
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return config;
    }

    /**
     * A consumer of raw bytes (decoding is the caller's, so that a bad record can be dead-lettered
     * instead of failing the poll) that commits offsets only after the work is done.
     */
    public static Map<String, Object> consumerConfig(KafkaConnection kafka, String groupId) {
        Map<String, Object> config = kafka.applyTo(new HashMap<>());
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return config;
    }

    /** An admin client's settings. */
    public static Map<String, Object> adminConfig(KafkaConnection kafka) {
        Map<String, Object> config = kafka.applyTo(new HashMap<>());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return config;
    }

    /** {@link #producerConfig(KafkaConnection, String)} for a broker without authentication (tests, benchmarks). */
    public static Map<String, Object> producerConfig(String unauthenticatedBootstrap, String clientId) {
        return producerConfig(KafkaConnection.unauthenticated(unauthenticatedBootstrap), clientId);
    }

    /** {@link #consumerConfig(KafkaConnection, String)} for a broker without authentication (tests, benchmarks). */
    public static Map<String, Object> consumerConfig(String unauthenticatedBootstrap, String groupId) {
        return consumerConfig(KafkaConnection.unauthenticated(unauthenticatedBootstrap), groupId);
    }
}
