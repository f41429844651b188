package dev.weir.policy.service;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The policy service: REST API, PostgreSQL state, compiled desired state on Kafka. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class PolicyServiceApplication {

    /**
     * Settings as command-line arguments, which win over application.properties (properties
     * given to SpringApplicationBuilder are only defaults).
     */
    public static String[] arguments(java.util.Map<String, String> settings) {
        return settings.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    }

    public static void main(String[] args) {
        SpringApplication.run(PolicyServiceApplication.class, args);
    }
}
