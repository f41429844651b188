package dev.weir.dns;

import dev.weir.dns.analytics.DnsSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * weir.kafka-* as for every service (the API tokens are ApiSecurity's); weir.dns.*: the analytics'
 * window, unanswered timeout and resolve delay, how long history is kept, and where Kafka
 * Streams keeps its local files (a fresh temporary directory by default: the stores are in memory
 * and restored from their changelogs).
 */
@ConfigurationProperties("weir")
public record DnsServiceProperties(String kafkaBootstrap, Path kafkaPropertiesFile,
            @DefaultValue("false") boolean kafkaUnauthenticated, @DefaultValue Dns dns) {

    /** The broker and this service's client properties (weir.kafka-properties-file: credentials, trust stores). */
    public dev.weir.common.kafka.KafkaConnection kafka() {
        return dev.weir.common.kafka.KafkaConnection.of(kafkaBootstrap, kafkaPropertiesFile, kafkaUnauthenticated);
    }


    public record Dns(@DefaultValue("10s") Duration window, @DefaultValue("5s") Duration unansweredAfter,
            @DefaultValue("60s") Duration resolveAfter, @DefaultValue("10") int minResponses,
            @DefaultValue("7d") Duration retention, Path stateDir, @DefaultValue("1") int streamThreads,
            @DefaultValue("cluster.local") String clusterDomain) {

        public DnsSettings settings() {
            return new DnsSettings(window, unansweredAfter, resolveAfter, minResponses, clusterDomain);
        }
    }
}
