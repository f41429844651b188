package dev.weir.relay;

import dev.weir.common.ServiceArguments;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;

/** The relay: the cluster's flows, nodes and service map from Kafka, over REST. */
@SpringBootApplication
@org.springframework.context.annotation.Import(dev.weir.common.web.ApiSecurity.class)
@ConfigurationPropertiesScan
public class RelayApplication {

    static final String CONFIG_NAME = "weir-relay";

    /**
     * weir.kafka-* as for every service (the API tokens are ApiSecurity's); how history queries read
     * the flows topic (readers in parallel, bounds); the Observer gRPC port; and where the policy,
     * DNS and alerting APIs are, which the web UI reaches through the relay; and the Spring SSL
     * bundle (weir.tls-bundle) whose certificate the gRPC listener presents and whose trust the
     * upstream calls use: the REST listener takes its own from server.ssl.bundle; and, for the
     * Observer APIs' mutual TLS, the CA (PEM) whose client certificates stand for a read token,
     * and the subject CNs those certificates may have (empty: any); and the cluster's Service CIDRs,
     * whose addresses the service map does not count as destinations (their backends are).
     */
    @ConfigurationProperties("weir")
    public record RelayProperties(String kafkaBootstrap, Path kafkaPropertiesFile,
            @DefaultValue("false") boolean kafkaUnauthenticated, @DefaultValue("0") int scanReaders,
            @DefaultValue("20000000") long scanMaxRecords, @DefaultValue("30s") Duration scanMaxTime,
            @DefaultValue("4245") int grpcPort, @DefaultValue("127.0.0.1") String grpcAddress, @DefaultValue("http://127.0.0.1:8081") URI policyApi,
            @DefaultValue("http://127.0.0.1:8082") URI dnsApi, @DefaultValue("http://127.0.0.1:8083") URI alertingApi,
            @DefaultValue("") String tlsBundle, Path grpcClientCaFile, @DefaultValue("") java.util.List<String> grpcClientNames,
            @DefaultValue("") java.util.List<String> serviceCidrs) {

        /** The broker and this service's client properties (weir.kafka-properties-file: credentials, trust stores). */
        public dev.weir.common.kafka.KafkaConnection kafka() {
            return dev.weir.common.kafka.KafkaConnection.of(kafkaBootstrap, kafkaPropertiesFile, kafkaUnauthenticated);
        }


        public RelayProperties {
            grpcClientNames = grpcClientNames == null ? java.util.List.of()
                    : grpcClientNames.stream().filter(n -> !n.isBlank()).toList();
            serviceCidrs = serviceCidrs == null ? java.util.List.of() : serviceCidrs.stream().map(String::strip)
                    .filter(c -> !c.isEmpty()).toList();
            for (String cidr : serviceCidrs) {
                if (!cidr.contains("/") || !dev.weir.common.flow.FlowFilters.inPrefix(cidr.substring(0, cidr.indexOf('/')), cidr)) {
                    throw new IllegalArgumentException("weir.service-cidrs: '" + cidr + "' is not a CIDR");
                }
            }
            if (scanReaders <= 0) {
                scanReaders = Runtime.getRuntime().availableProcessors();
            }
        }
    }

    public static String[] arguments(java.util.Map<String, String> settings) {
        return ServiceArguments.of(CONFIG_NAME, settings);
    }

    public static void main(String[] args) {
        SpringApplication.run(RelayApplication.class, ServiceArguments.withConfig(CONFIG_NAME, args));
    }
}
