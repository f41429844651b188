package dev.weir.alerting;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * weir.kafka-* as for every service (the API tokens are ApiSecurity's); weir.alerting.*: how often
 * rules are evaluated, the built-in rule pack, the external URL put in payloads, delivery retries,
 * and whether receivers on loopback/link-local/metadata addresses are allowed.
 */
@ConfigurationProperties("weir")
public record AlertingProperties(String kafkaBootstrap, Path kafkaPropertiesFile,
            @DefaultValue("false") boolean kafkaUnauthenticated, @DefaultValue Alerting alerting) {

    /** The broker and this service's client properties (weir.kafka-properties-file: credentials, trust stores). */
    public dev.weir.common.kafka.KafkaConnection kafka() {
        return dev.weir.common.kafka.KafkaConnection.of(kafkaBootstrap, kafkaPropertiesFile, kafkaUnauthenticated);
    }


    public record Alerting(@DefaultValue("200ms") Duration evaluationInterval, @DefaultValue("true") boolean builtinRules,
            @DefaultValue("https://127.0.0.1:8083") String externalUrl, @DefaultValue("1s") Duration retryBase,
            @DefaultValue("12") int maxAttempts, @DefaultValue("10s") Duration deliveryTimeout,
            @DefaultValue("false") boolean allowPrivateReceivers, @DefaultValue("") List<String> receiverAllowedCidrs,
            @DefaultValue("") List<Integer> receiverAllowedPorts, @DefaultValue("8") int deliveryConcurrency,
            @DefaultValue("7d") Duration outboxRetention) {
    }

    /** Where webhooks may go (see {@link dev.weir.alerting.delivery.AddressGuard}). */
    public dev.weir.alerting.delivery.AddressGuard addressGuard() {
        return new dev.weir.alerting.delivery.AddressGuard(alerting.allowPrivateReceivers(),
                alerting.receiverAllowedCidrs() == null ? List.of() : alerting.receiverAllowedCidrs(),
                alerting.receiverAllowedPorts() == null ? List.of() : alerting.receiverAllowedPorts());
    }

    public int deliveryConcurrency() {
        return Math.max(1, alerting.deliveryConcurrency());
    }

    public Duration outboxRetention() {
        return alerting.outboxRetention();
    }

    public Duration evaluationInterval() {
        return alerting.evaluationInterval();
    }

    public Duration retryBase() {
        return alerting.retryBase();
    }

    public int maxAttempts() {
        return alerting.maxAttempts();
    }

    public Duration deliveryTimeout() {
        return alerting.deliveryTimeout();
    }

    public boolean allowPrivateReceivers() {
        return alerting.allowPrivateReceivers();
    }
}
