package dev.weir.platform;

import dev.weir.common.kafka.TopicProvisioner;
import dev.weir.schemas.TopicCatalogue;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded platform: a real Kafka broker and a real PostgreSQL on loopback, the catalogue's
 * topics and every service's migrations. One data directory holds all its state; one platform at
 * a time may use it.
 */
public final class Platform implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Platform.class);
    static final String API_TOKEN = "api-token";
    static final String POSTGRES_PASSWORD = "postgres-password";

    private final PlatformConfig config;
    private final Secrets secrets;
    private EmbeddedKafka kafka;
    private EmbeddedPostgres postgres;
    private FileChannel lockChannel;
    private FileLock lock;
    private String apiToken;
    private Map<String, Integer> migrationsApplied = Map.of();
    private List<String> topicsCreated = List.of();

    public Platform(PlatformConfig config) {
        this.config = config;
        this.secrets = new Secrets(config.dataDirectory().resolve("secrets"));
    }

    public Platform start() throws Exception {
        Path dir = config.dataDirectory();
        Files.createDirectories(dir.resolve("run"));
        lockChannel = FileChannel.open(dir.resolve("run").resolve("lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            lock = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException heldInThisJvm) {
            lock = null;
        }
        if (lock == null) {
            lockChannel.close();
            throw new IllegalStateException("another Weir platform is running on " + dir + " (./weir down stops it)");
        }
        try {
            apiToken = secrets.getOrCreate(API_TOKEN, "weir_");
            kafka = new EmbeddedKafka(dir.resolve("kafka"), config.kafkaPort(), config.kafkaControllerPort());
            postgres = new EmbeddedPostgres(dir.resolve("postgres"), config.postgresPort(),
                    secrets.getOrCreate(POSTGRES_PASSWORD, ""));
            Duration timeout = config.startTimeout();
            // The broker takes the longest to start; the database starts beside it.
            CompletableFuture<Void> kafkaUp = CompletableFuture.runAsync(() -> startUnchecked(() -> kafka.start(timeout)));
            CompletableFuture<Void> postgresUp = CompletableFuture.runAsync(() -> startUnchecked(() -> postgres.start(timeout)));
            try {
                CompletableFuture.allOf(kafkaUp, postgresUp).join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
            migrationsApplied = Migrations.migrate(postgres.jdbcUrl(), postgres.user(), postgres.password());
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                topicsCreated = TopicProvisioner.ensureTopics(admin, TopicCatalogue.standard(), (short) 1);
            }
            LOG.info("platform ready in {}", dir);
            return this;
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void startUnchecked(Step step) {
        try {
            step.run();
        } catch (Exception e) {
            throw new CompletionException(e);
        }
    }

    /** True when running as root, as the datapath needs; PostgreSQL then runs as its own user. */
    public static boolean runningAsRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    /**
     * The settings every Weir service takes to run on this platform: its database schema, the
     * broker, the API token file (Spring property names, as command-line arguments take them).
     */
    public java.util.Map<String, String> serviceSettings(String schema) {
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("spring.datasource.url", jdbcUrl() + "?currentSchema=" + schema);
        settings.put("spring.datasource.username", databaseUser());
        settings.put("spring.datasource.password", databasePassword());
        settings.put("weir.kafka-bootstrap", kafkaBootstrapServers());
        settings.put("weir.api-token-file", apiTokenFile().toString());
        return settings;
    }

    public String jdbcUrl() {
        return postgres.jdbcUrl();
    }

    public String databaseUser() {
        return postgres.user();
    }

    public String databasePassword() {
        return postgres.password();
    }

    public String apiToken() {
        return apiToken;
    }

    public Path apiTokenFile() {
        return secrets.path(API_TOKEN);
    }

    public Map<String, Integer> migrationsApplied() {
        return migrationsApplied;
    }

    public List<String> topicsCreated() {
        return topicsCreated;
    }

    /** Stops the broker alone (its data stays), as an outage would; {@link #startKafka()} brings it back. */
    public void stopKafka() {
        kafka.close();
    }

    public void startKafka() throws Exception {
        kafka.start(config.startTimeout());
    }

    /** Process ids of the platform's children, for checks that nothing is left behind. */
    public List<Long> childPids() {
        return List.of(kafka.pid(), postgres.pid());
    }

    public boolean healthy() {
        return kafka != null && kafka.isAlive() && postgres != null && postgres.isAlive();
    }

    /** What a person or a script needs to reach the platform; secrets redacted. */
    public Map<String, String> endpoints() {
        Map<String, String> endpoints = new LinkedHashMap<>();
        endpoints.put("kafka", kafkaBootstrapServers());
        endpoints.put("postgres", jdbcUrl() + " (user " + databaseUser() + ", password in "
                + secrets.path(POSTGRES_PASSWORD) + ")");
        endpoints.put("api-token", Secrets.redact(apiToken) + " (in " + apiTokenFile() + ")");
        endpoints.put("data", config.dataDirectory().toString());
        return endpoints;
    }

    @Override
    public void close() {
        // Stop in reverse order of need: nothing depends on the database or broker after this.
        if (kafka != null) {
            kafka.close();
        }
        if (postgres != null) {
            postgres.close();
        }
        try {
            if (lock != null) {
                lock.release();
            }
            if (lockChannel != null) {
                lockChannel.close();
            }
        } catch (IOException e) {
            LOG.warn("could not release the data directory lock: {}", e.getMessage());
        }
    }
}
