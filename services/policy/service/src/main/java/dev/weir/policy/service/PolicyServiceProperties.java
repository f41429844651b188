package dev.weir.policy.service;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * weir.kafka-bootstrap: the Kafka bootstrap servers; weir.api-token-file: the file holding the
 * API token every request must carry (read once, never logged); weir.fqdn-min-ttl: how long an
 * address a DNS answer gave stays allowed by toFQDNs rules at least, whatever the answer's TTL.
 */
@ConfigurationProperties("weir")
public record PolicyServiceProperties(String kafkaBootstrap, Path apiTokenFile,
        @DefaultValue("1h") Duration fqdnMinTtl) {
}
