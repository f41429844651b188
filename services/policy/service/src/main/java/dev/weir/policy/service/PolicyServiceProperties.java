package dev.weir.policy.service;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * weir.kafka-bootstrap: the Kafka bootstrap servers; weir.api-token-file: the file holding the
 * API token every request must carry (read once, never logged).
 */
@ConfigurationProperties("weir")
public record PolicyServiceProperties(String kafkaBootstrap, Path apiTokenFile) {
}
