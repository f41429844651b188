package dev.weir.relay;

import dev.weir.common.ServiceArguments;
import dev.weir.common.auth.BearerTokenFilter;
import java.io.IOException;
import java.nio.file.Path;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

/** The relay: the cluster's flows, nodes and service map from Kafka, over REST. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class RelayApplication {

    static final String CONFIG_NAME = "weir-relay";

    /** weir.kafka-bootstrap and weir.api-token-file, as for every service. */
    @ConfigurationProperties("weir")
    public record RelayProperties(String kafkaBootstrap, Path apiTokenFile) {
    }

    @Bean
    BearerTokenFilter bearerTokenFilter(RelayProperties properties) throws IOException {
        return BearerTokenFilter.fromFile(properties.apiTokenFile());
    }

    public static String[] arguments(java.util.Map<String, String> settings) {
        return ServiceArguments.of(CONFIG_NAME, settings);
    }

    public static void main(String[] args) {
        SpringApplication.run(RelayApplication.class, ServiceArguments.withConfig(CONFIG_NAME, args));
    }
}
