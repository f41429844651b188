package dev.weir.platform;

import dev.weir.common.auth.BearerTokens;
import dev.weir.common.auth.Scope;
import dev.weir.common.kafka.KafkaAccess;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.KafkaConnection;
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
    static final String TLS_STORE_PASSWORD = "tls-store-password";
    static final String READ_TOKEN = "api-token-read";
    static final String WRITE_TOKEN = "api-token-write";
    static final String TOKENS = "api-tokens";
    /** The subject of the certificate the REST and gRPC listeners present (valid for loopback). */
    public static final String SERVER_PRINCIPAL = "weir-api";
    /** The subject of the client certificate for the Observer APIs' mutual TLS (the hubble CLI's). */
    public static final String OBSERVER_CLIENT_PRINCIPAL = "observer-client";
    /** The Spring SSL bundle the services' listeners and the relay's upstream calls use. */
    public static final String TLS_BUNDLE = "weir";

    private final PlatformConfig config;
    private final Secrets secrets;
    private EmbeddedKafka kafka;
    private LocalCa ca;
    private LocalCa.PemIdentity serverIdentity;
    private LocalCa.PemIdentity observerClient;
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
        // Flows, DNS names, the database and the secrets are all in here: nobody else may list it, and
        // each part is its owner's only (the database's directory is PostgreSQL's user's, which
        // must be able to pass through).
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
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
            // The components know tokens by their hashes only; the tokens themselves stay here.
            secrets.write(TOKENS, String.join("\n", BearerTokens.line("admin", Scope.ADMIN, apiToken),
                    BearerTokens.line("reader", Scope.READ, secrets.getOrCreate(READ_TOKEN, "weir_")),
                    BearerTokens.line("writer", Scope.WRITE, secrets.getOrCreate(WRITE_TOKEN, "weir_"))) + "\n");
            String storePassword = secrets.getOrCreate(TLS_STORE_PASSWORD, "");
            ca = new LocalCa(secrets.path("tls"), storePassword).open();
            for (String principal : principals()) {
                writeKafkaProperties(principal, storePassword);
            }
            serverIdentity = ca.pemIdentity(SERVER_PRINCIPAL);
            observerClient = ca.pemIdentity(OBSERVER_CLIENT_PRINCIPAL);
            kafka = new EmbeddedKafka(dir.resolve("kafka"), config.kafkaPort(), config.kafkaControllerPort(),
                    config.harnessKafkaPort(), new EmbeddedKafka.Tls(ca.keystore(KafkaAccess.BROKER), ca.truststore(),
                            storePassword), KafkaClients.adminConfig(kafka(KafkaAccess.ADMIN)));
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
            for (String schema : DatabaseRoles.SCHEMAS) {
                DatabaseRoles.ensure(postgres.jdbcUrl(), postgres.user(), postgres.password(), schema,
                        secrets.getOrCreate(POSTGRES_PASSWORD + "-" + schema, ""));
            }
            try (Admin admin = Admin.create(KafkaClients.adminConfig(kafka(KafkaAccess.ADMIN)))) {
                topicsCreated = TopicProvisioner.ensureTopics(admin, TopicCatalogue.standard(), (short) 1);
                TopicProvisioner.ensureAcls(admin, TopicCatalogue.standard());
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

    /**
     * The harness listener (no authentication, super user) of a platform configured with one, as
     * tests are; components get {@link #kafka(String)} instead.
     */
    public String kafkaBootstrapServers() {
        return kafka.harnessBootstrapServers().orElseThrow(() -> new IllegalStateException(
                "this platform has no unauthenticated listener: connect with kafka(principal)"));
    }

    /** The authenticated listener, with the principal's client certificate (see {@link KafkaAccess}). */
    public KafkaConnection kafka(String principal) {
        return KafkaConnection.of("127.0.0.1:" + config.kafkaPort(), kafkaPropertiesFile(principal), false);
    }

    /** The component's connection, as its own principal. */
    public KafkaConnection kafka(KafkaAccess component) {
        return kafka(component.principal());
    }

    /** The principal's Kafka client properties: TLS with its own key store and the CA's trust store. */
    public Path kafkaPropertiesFile(String principal) {
        return secrets.path("kafka").resolve(principal + ".properties");
    }

    /** The local CA's certificate (PEM): what a client trusts to reach the platform over TLS. */
    public Path caCertificate() {
        return ca.caCertificate();
    }

    private static List<String> principals() {
        List<String> principals = new java.util.ArrayList<>();
        for (KafkaAccess access : KafkaAccess.values()) {
            principals.add(access.principal());
        }
        principals.add(KafkaAccess.ADMIN);
        return principals;
    }

    private void writeKafkaProperties(String principal, String storePassword) throws Exception {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("security.protocol", "SSL");
        p.setProperty("ssl.keystore.type", "PKCS12");
        p.setProperty("ssl.keystore.location", ca.keystore(principal).toString());
        p.setProperty("ssl.keystore.password", storePassword);
        p.setProperty("ssl.key.password", storePassword);
        p.setProperty("ssl.truststore.type", "PKCS12");
        p.setProperty("ssl.truststore.location", ca.truststore().toString());
        p.setProperty("ssl.truststore.password", storePassword);
        Path file = kafkaPropertiesFile(principal);
        Files.createDirectories(file.getParent());
        Files.setPosixFilePermissions(file.getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path temporary = Files.createTempFile(file.getParent(), principal, ".tmp",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (var out = Files.newBufferedWriter(temporary)) {
            p.store(out, "Kafka client settings of " + principal + " (secrets: the owner only)");
        }
        Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The settings every Weir service takes to run on this platform: its database schema, the
     * broker with the service's own Kafka credentials (principal weir-SCHEMA), the API token file
     * (Spring property names, as command-line arguments take them).
     */
    public java.util.Map<String, String> serviceSettings(String schema) {
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        if (DatabaseRoles.SCHEMAS.contains(schema)) {
            settings.put("spring.datasource.url", jdbcUrl() + "?currentSchema=" + schema);
            settings.put("spring.datasource.username", databaseUser(schema));
            settings.put("spring.datasource.password", databasePassword(schema));
        }
        settings.put("weir.kafka-bootstrap", "127.0.0.1:" + config.kafkaPort());
        settings.put("weir.kafka-properties-file", kafkaPropertiesFile("weir-" + schema).toString());
        settings.put("weir.api-tokens-file", apiTokensFile().toString());
        return settings;
    }

    /**
     * The settings that put a Spring Boot service's listener on TLS with the platform's server
     * certificate (the REST listener reloads it when the files change; the relay's gRPC listener
     * and its upstream calls read it at start), trusting the platform's CA for the relay's calls to
     * the other services. Operators give the same properties their own files. No HSTS: the
     * certificate names localhost, whose other ports HSTS would force onto TLS.
     */
    public java.util.Map<String, String> tlsSettings() {
        String bundle = "spring.ssl.bundle.pem." + TLS_BUNDLE;
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put(bundle + ".keystore.certificate", "file:" + serverIdentity.certificateChain());
        settings.put(bundle + ".keystore.private-key", "file:" + serverIdentity.privateKey());
        settings.put(bundle + ".truststore.certificate", "file:" + caCertificate());
        settings.put(bundle + ".reload-on-update", "true");
        settings.put("server.ssl.bundle", TLS_BUNDLE);
        settings.put("weir.tls-bundle", TLS_BUNDLE);
        settings.put("weir.hsts-max-age", "0");
        // The relay's gRPC takes client certificates of this CA (hubble --tls-client-cert-file).
        settings.put("weir.grpc-client-ca-file", caCertificate().toString());
        settings.put("weir.grpc-client-names", OBSERVER_CLIENT_PRINCIPAL); // not the components' Kafka certificates
        return settings;
    }

    /** The server certificate's chain (PEM), for listeners outside Spring: the agent's. */
    public Path serverCertificateChain() {
        return serverIdentity.certificateChain();
    }

    /** The server certificate's private key (PKCS#8 PEM). */
    public Path serverPrivateKey() {
        return serverIdentity.privateKey();
    }

    /** A client certificate (PEM) for the Observer APIs' mutual TLS, and its key (PKCS#8). */
    public Path observerClientCertificate() {
        return observerClient.certificateChain();
    }

    public Path observerClientKey() {
        return observerClient.privateKey();
    }

    /** A TLS context that trusts the platform's CA and nothing else: for clients of the services. */
    public javax.net.ssl.SSLContext clientTls() {
        try (var in = Files.newInputStream(caCertificate())) {
            java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("weir-ca", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
            javax.net.ssl.TrustManagerFactory factory = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("the platform's CA certificate cannot be read: " + e.getMessage(), e);
        }
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

    /** The role of one service's schema: it owns that schema and nothing else. */
    public String databaseUser(String schema) {
        return DatabaseRoles.role(schema);
    }

    public String databasePassword(String schema) {
        try {
            return secrets.getOrCreate(POSTGRES_PASSWORD + "-" + schema, "");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public String apiToken() {
        return apiToken;
    }

    /** The admin token (clear): the operator's. */
    public Path apiTokenFile() {
        return secrets.path(API_TOKEN);
    }

    /** A token of the given scope (clear), for a person or a test that should have no more. */
    public String apiToken(Scope scope) throws IOException {
        return switch (scope) {
            case READ -> secrets.getOrCreate(READ_TOKEN, "weir_");
            case WRITE -> secrets.getOrCreate(WRITE_TOKEN, "weir_");
            case ADMIN -> apiToken;
        };
    }

    /** Every token's name, scope and hash: what the components (agents too) are given. */
    public Path apiTokensFile() {
        return secrets.path(TOKENS);
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
        endpoints.put("kafka", "127.0.0.1:" + config.kafkaPort() + " (TLS with a client certificate; clients' settings in "
                + secrets.path("kafka") + ", CA " + caCertificate() + ")");
        endpoints.put("postgres", jdbcUrl() + " (user " + databaseUser() + ", password in "
                + secrets.path(POSTGRES_PASSWORD) + ")");
        endpoints.put("api-token", Secrets.redact(apiToken) + " (admin, in " + apiTokenFile() + "; read and write "
                + "tokens in " + secrets.path(READ_TOKEN) + ", " + secrets.path(WRITE_TOKEN) + ")");
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
