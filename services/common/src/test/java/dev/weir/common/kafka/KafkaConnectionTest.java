package dev.weir.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaConnectionTest {

    @TempDir
    Path dir;

    @Test
    void withoutCredentialsWeirDoesNotConnectUnlessTheOperatorSaysSo() {
        assertThatThrownBy(() -> KafkaConnection.of("kafka:9092", null, false))
                .hasMessageContaining("WEIR_KAFKA_UNAUTHENTICATED");
        assertThat(KafkaConnection.of("kafka:9092", null, true).secured()).isFalse();
    }

    @Test
    void theOperatorsPropertiesAreAppliedButNeverPrintedAndWeirsOwnCannotBeOverridden() throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"hunter2\";\n");
        KafkaConnection kafka = KafkaConnection.of("kafka:9093", file, false);
        assertThat(kafka.secured()).isTrue();
        assertThat(KafkaClients.producerConfig(kafka, "p")).containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("acks", "all").containsEntry("bootstrap.servers", "kafka:9093");
        assertThat(kafka.toString()).contains("SASL_SSL").contains("sasl.jaas.config").doesNotContain("hunter2");
        Files.writeString(file, "acks=0\n");
        assertThatThrownBy(() -> KafkaConnection.of("kafka:9093", file, false)).hasMessageContaining("'acks' is set by Weir");
        assertThatThrownBy(() -> new KafkaConnection("kafka:9093", new HashMap<>(java.util.Map.of("isolation.level",
                "read_uncommitted")))).hasMessageContaining("isolation.level");
    }
}
