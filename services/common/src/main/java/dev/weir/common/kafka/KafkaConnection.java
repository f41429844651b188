package dev.weir.common.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * How one component reaches Kafka: the bootstrap servers and the client properties its operator
 * gives it (security.protocol, SASL/SCRAM or TLS key and trust stores, timeouts), read from a
 * properties file kept with the component's secrets. Weir's own delivery settings (acks,
 * idempotence, commits by hand, read_committed, serializers) are not the operator's to change:
 * a file that sets one is refused, so that a typo cannot quietly weaken delivery.
 *
 * @param bootstrapServers the brokers to start from
 * @param clientProperties extra client properties, applied to every producer, consumer and admin client
 */
public record KafkaConnection(String bootstrapServers, Map<String, String> clientProperties) {

    /** Settings that decide Weir's delivery guarantees or decoding; an operator's file may not set them. */
    static final Set<String> RESERVED = Set.of("bootstrap.servers", "key.serializer", "value.serializer",
            "key.deserializer", "value.deserializer", "enable.idempotence", "acks", "enable.auto.commit",
            "isolation.level", "group.id", "client.id", "transactional.id", "processing.guarantee",
            "application.id");

    public KafkaConnection {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("the Kafka bootstrap servers are required");
        }
        clientProperties = Map.copyOf(clientProperties);
        for (String key : clientProperties.keySet()) {
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("Kafka client property '" + key + "' is set by Weir and cannot be "
                        + "overridden");
            }
        }
    }

    /** A broker without authentication: only for a broker of one's own, as tests and benchmarks run. */
    public static KafkaConnection unauthenticated(String bootstrapServers) {
        return new KafkaConnection(bootstrapServers, Map.of());
    }

    /**
     * The bootstrap servers with the client properties of the file (it holds secrets; its values
     * are never logged). Without a file Weir does not connect: Kafka carries enforcement, so
     * going without credentials takes the operator's explicit word ({@code unauthenticatedAllowed},
     * weir.kafka-unauthenticated or WEIR_KAFKA_UNAUTHENTICATED), for a broker nobody else reaches.
     */
    public static KafkaConnection of(String bootstrapServers, Path propertiesFile, boolean unauthenticatedAllowed) {
        if (propertiesFile == null || propertiesFile.toString().isBlank()) {
            if (!unauthenticatedAllowed) {
                throw new IllegalArgumentException("no Kafka client properties (credentials) are configured: set "
                        + "weir.kafka-properties-file / WEIR_KAFKA_PROPERTIES_FILE, or weir.kafka-unauthenticated=true / "
                        + "WEIR_KAFKA_UNAUTHENTICATED=true for a broker nobody else can reach");
            }
            return unauthenticated(bootstrapServers);
        }
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(propertiesFile, StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Kafka client properties in " + propertiesFile, e);
        }
        Map<String, String> values = new TreeMap<>();
        properties.stringPropertyNames().forEach(name -> values.put(name.trim(), properties.getProperty(name).trim()));
        try {
            return new KafkaConnection(bootstrapServers, values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(propertiesFile + ": " + e.getMessage(), e);
        }
    }

    /** Adds the client properties to a client's configuration and returns it. */
    public Map<String, Object> applyTo(Map<String, Object> config) {
        config.putAll(clientProperties);
        return config;
    }

    /** True when the properties ask for authentication (SASL or TLS client certificates). */
    public boolean secured() {
        String protocol = clientProperties.getOrDefault("security.protocol", "PLAINTEXT");
        return !protocol.equalsIgnoreCase("PLAINTEXT");
    }

    /** The servers and the names of the properties; never their values, which may be secrets. */
    @Override
    public String toString() {
        return bootstrapServers + " " + clientProperties.getOrDefault("security.protocol", "PLAINTEXT")
                + " " + new TreeMap<>(clientProperties).keySet();
    }
}
