package dev.weir.platform;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the embedded platform keeps its state and which loopback ports it listens on.
 *
 * @param dataDirectory everything the platform writes: broker log, database, secrets, logs
 */
public record PlatformConfig(Path dataDirectory, int kafkaPort, int kafkaControllerPort, int postgresPort,
        Duration startTimeout) {

    public static final int DEFAULT_KAFKA_PORT = 9092;
    public static final int DEFAULT_KAFKA_CONTROLLER_PORT = 9093;
    /** Not 5432, so that a PostgreSQL the machine already runs is left alone. */
    public static final int DEFAULT_POSTGRES_PORT = 15432;

    public static PlatformConfig defaults(Path dataDirectory) {
        return new PlatformConfig(dataDirectory, DEFAULT_KAFKA_PORT, DEFAULT_KAFKA_CONTROLLER_PORT,
                DEFAULT_POSTGRES_PORT, Duration.ofSeconds(90));
    }

    /** Ports chosen free on loopback now: for tests that run beside another platform. */
    public static PlatformConfig onFreePorts(Path dataDirectory) {
        return new PlatformConfig(dataDirectory, FreePorts.next(), FreePorts.next(), FreePorts.next(),
                Duration.ofSeconds(90));
    }

    public PlatformConfig withDataDirectory(Path directory) {
        return new PlatformConfig(directory, kafkaPort, kafkaControllerPort, postgresPort, startTimeout);
    }
}
