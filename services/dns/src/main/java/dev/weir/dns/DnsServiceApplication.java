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

    /**
     * The service's own configuration file, so that services sharing a classpath (the embedded
     * platform runs several in one JVM) do not read each other's application.properties.
     */
    static final String CONFIG_NAME = "weir-dns";

    /**
     * Settings as command-line arguments, which win over the configuration file (properties
     * given to SpringApplicationBuilder are only defaults).
     */
    public static String[] arguments(java.util.Map<String, String> settings) {
        java.util.List<String> args = new java.util.ArrayList<>();
        args.add("--spring.config.name=" + CONFIG_NAME);
        settings.forEach((k, v) -> args.add("--" + k + "=" + v));
        return args.toArray(String[]::new);
    }

    public static void main(String[] args) {
        String[] withConfig = java.util.Arrays.copyOf(args, args.length + 1);
        withConfig[args.length] = "--spring.config.name=" + CONFIG_NAME;
        SpringApplication.run(DnsServiceApplication.class, withConfig);
    }
}
