package dev.weir.policy.service;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The policy service: REST API, PostgreSQL state, compiled desired state on Kafka. */
@SpringBootApplication
@org.springframework.context.annotation.Import(dev.weir.common.web.ApiSecurity.class)
@ConfigurationPropertiesScan
public class PolicyServiceApplication {

    /**
     * The service's own configuration file, so that services sharing a classpath (the embedded
     * platform runs several in one JVM) do not read each other's application.properties.
     */
    static final String CONFIG_NAME = "weir-policy";

    /**
     * Settings as command-line arguments, which win over the configuration file (properties
     * given to SpringApplicationBuilder are only defaults).
     */
    public static String[] arguments(java.util.Map<String, String> settings) {
        return dev.weir.common.ServiceArguments.of(CONFIG_NAME, settings);
    }

    public static void main(String[] args) throws Exception {
        if (java.util.Arrays.asList(args).contains("--provision-topics")) {
            dev.weir.common.kafka.TopicProvisioner.main(new String[0]); // the install's provisioning job
            return;
        }
        SpringApplication.run(PolicyServiceApplication.class, dev.weir.common.ServiceArguments.withConfig(CONFIG_NAME, args));
    }
}
