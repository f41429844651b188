package dev.weir.alerting;

import dev.weir.common.ServiceArguments;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The alerting service: rules over Weir's streams, grouped notifications, webhooks from an outbox. */
@SpringBootApplication
@org.springframework.context.annotation.Import(dev.weir.common.web.ApiSecurity.class)
@ConfigurationPropertiesScan
public class AlertingApplication {

    static final String CONFIG_NAME = "weir-alerting";

    public static String[] arguments(java.util.Map<String, String> settings) {
        return ServiceArguments.of(CONFIG_NAME, settings);
    }

    public static void main(String[] args) {
        SpringApplication.run(AlertingApplication.class, ServiceArguments.withConfig(CONFIG_NAME, args));
    }
}
