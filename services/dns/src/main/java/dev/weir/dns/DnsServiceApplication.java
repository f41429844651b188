package dev.weir.dns;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The DNS analytics service: DNS flows to insights and windows (Kafka Streams), history, REST. */
@SpringBootApplication
@org.springframework.context.annotation.Import(dev.weir.common.web.ApiSecurity.class)
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
        return dev.weir.common.ServiceArguments.of(CONFIG_NAME, settings);
    }

    public static void main(String[] args) {
        SpringApplication.run(DnsServiceApplication.class, dev.weir.common.ServiceArguments.withConfig(CONFIG_NAME, args));
    }
}
