package dev.weir.platform;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the embedded platform keeps its state and which loopback ports it listens on.
 *
 * @param dataDirectory everything the platform writes: broker log, database, secrets, logs
 * @param kafkaPort the broker's listener: TLS, a client certificate required, ACLs
 * @param harnessKafkaPort 0, or a second loopback listener without authentication whose clients
 *     are super users: for test harnesses that feed and read topics; never in {@link #defaults}
 */
public record PlatformConfig(Path dataDirectory, int kafkaPort, int kafkaControllerPort, int postgresPort,
        Duration startTimeout, int harnessKafkaPort) {

    public static final int DEFAULT_KAFKA_PORT = 9092;
    public static final int DEFAULT_KAFKA_CONTROLLER_PORT = 9093;
    /** Not 5432, so that a PostgreSQL the machine already runs is left alone. */
    public static final int DEFAULT_POSTGRES_PORT = 15432;

    public static PlatformConfig defaults(Path dataDirectory) {
        return new PlatformConfig(dataDirectory, DEFAULT_KAFKA_PORT, DEFAULT_KAFKA_CONTROLLER_PORT,
                DEFAULT_POSTGRES_PORT, Duration.ofSeconds(90), 0);
    }

    /**
     * Ports chosen free on loopback now, for tests that run beside another platform; with the
     * harness listener, so that a test can feed and read any topic while the components it
     * starts use their own credentials.
     */
    public static PlatformConfig onFreePorts(Path dataDirectory) {
        return new PlatformConfig(dataDirectory, FreePorts.next(), FreePorts.next(), FreePorts.next(),
                Duration.ofSeconds(90), FreePorts.next());
    }

    public PlatformConfig withDataDirectory(Path directory) {
        return new PlatformConfig(directory, kafkaPort, kafkaControllerPort, postgresPort, startTimeout, harnessKafkaPort);
    }
}
