package dev.weir.dns;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The DNS analytics service: DNS flows to insights and windows (Kafka Streams), history, REST. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class DnsServiceApplication {

    /** Settings as command-line arguments, which win over application.properties. */
    public static String[] arguments(java.util.Map<String, String> settings) {
        return settings.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
    }

    public static void main(String[] args) {
        SpringApplication.run(DnsServiceApplication.class, args);
    }
}
