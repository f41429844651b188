package dev.weir.policy.service;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * weir.kafka-bootstrap: the Kafka bootstrap servers, weir.kafka-properties-file its client
 * settings (the API tokens are ApiSecurity's); weir.fqdn-min-ttl: how long an
 * address a DNS answer gave stays allowed by toFQDNs rules at least, whatever the answer's TTL;
 * weir.fqdn-max-ttl: and at most, whatever the answer's TTL; weir.fqdn-max-addresses: how many
 * addresses one name may hold at once (the ones expiring first give way).
 */
@ConfigurationProperties("weir")
public record PolicyServiceProperties(String kafkaBootstrap, Path kafkaPropertiesFile,
            @DefaultValue("false") boolean kafkaUnauthenticated,
        @DefaultValue("1h") Duration fqdnMinTtl, @DefaultValue("24h") Duration fqdnMaxTtl,
        @DefaultValue("64") int fqdnMaxAddresses) {

    /** The broker and this service's client properties (weir.kafka-properties-file: credentials, trust stores). */
    public dev.weir.common.kafka.KafkaConnection kafka() {
        return dev.weir.common.kafka.KafkaConnection.of(kafkaBootstrap, kafkaPropertiesFile, kafkaUnauthenticated);
    }

}
