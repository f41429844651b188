package dev.weir.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import dev.weir.common.kafka.KafkaAccess;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one process), run from the Kafka
 * artifacts on this JVM's class path in a child JVM. Its log directory is formatted once and kept,
 * so topics and records survive a restart.
 *
 * <p>Its listeners take TLS with a client certificate only (the controller's too), a principal is
 * the certificate's CN, and KRaft's StandardAuthorizer refuses whatever no ACL allows. The one
 * exception is the optional harness listener (plain, loopback, super user) that tests ask for.
 */
final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** The broker's TLS material: its own key store, the trust store of the CA, their password. */
    record Tls(Path keystore, Path truststore, String password) {
        @Override
        public String toString() {
            return "Tls[keystore=" + keystore + ", truststore=" + truststore + "]"; // never the password
        }
    }

    private final Path directory;
    private final int port;
    private final int controllerPort;
    private final int harnessPort;
    private final Tls tls;
    private final Map<String, Object> adminConfig;
    private ManagedProcess process;

    /**
     * @param harnessPort 0, or the port of a plain listener whose clients are super users
     * @param adminConfig how the platform's own admin client reaches the broker
     */
    EmbeddedKafka(Path directory, int port, int controllerPort, int harnessPort, Tls tls, Map<String, Object> adminConfig) {
        this.directory = directory;
        this.port = port;
        this.controllerPort = controllerPort;
        this.harnessPort = harnessPort;
        this.tls = tls;
        this.adminConfig = adminConfig;
    }

    /** The authenticated listener. */
    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The harness listener, if there is one. */
    java.util.Optional<String> harnessBootstrapServers() {
        return harnessPort == 0 ? java.util.Optional.empty() : java.util.Optional.of("127.0.0.1:" + harnessPort);
    }

    void start(Duration timeout) throws IOException, InterruptedException {
        Path config = writeConfig();
        Path logDir = directory.resolve("data");
        if (!Files.exists(logDir.resolve("meta.properties"))) {
            String clusterId = Uuid.randomUuid().toString();
            LOG.info("formatting Kafka log directory {} for cluster {}", logDir, clusterId);
            List<String> format = javaCommand("kafka.tools.StorageTool");
            format.addAll(List.of("format", "-t", clusterId, "-c", config.toString(), "--ignore-formatted"));
            ProcessRunner.run(format, 120);
        }
        List<String> command = javaCommand("kafka.Kafka");
        command.add(config.toString());
        process = ManagedProcess.start("kafka", command, "TERM", directory.resolve("kafka.log"), Map.of());
        awaitReady(timeout);
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Object> config = new java.util.HashMap<>(adminConfig);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        try (Admin admin = Admin.create(config)) {
            while (true) {
                if (!process.isAlive()) {
                    throw new IOException("Kafka exited while starting; its log ends with:\n" + process.logTail(30));
                }
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception notYet) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("Kafka did not become ready within " + timeout + "; its log ends with:\n"
                            + process.logTail(30));
                }
                Thread.sleep(250);
            }
        }
    }

    private Path writeConfig() throws IOException {
        Files.createDirectories(directory);
        // The broker's log holds every pod's DNS names and flows: its owner only.
        Files.setPosixFilePermissions(directory, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        String listeners = "CLIENTS://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort;
        String advertised = "CLIENTS://127.0.0.1:" + port;
        String superUsers = "User:" + KafkaAccess.BROKER + ";User:" + KafkaAccess.ADMIN;
        if (harnessPort != 0) {
            listeners += ",HARNESS://127.0.0.1:" + harnessPort;
            advertised += ",HARNESS://127.0.0.1:" + harnessPort;
            superUsers += ";User:ANONYMOUS";
        }
        p.setProperty("listeners", listeners);
        p.setProperty("advertised.listeners", advertised);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "CLIENTS");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:SSL,CLIENTS:SSL,HARNESS:PLAINTEXT");
        p.setProperty("ssl.keystore.type", "PKCS12");
        p.setProperty("ssl.keystore.location", tls.keystore().toString());
        p.setProperty("ssl.keystore.password", tls.password());
        p.setProperty("ssl.key.password", tls.password());
        p.setProperty("ssl.truststore.type", "PKCS12");
        p.setProperty("ssl.truststore.location", tls.truststore().toString());
        p.setProperty("ssl.truststore.password", tls.password());
        p.setProperty("ssl.client.auth", "required");
        // A principal is its certificate's common name: "CN=weir-agent" is User:weir-agent.
        p.setProperty("ssl.principal.mapping.rules", "RULE:^CN=([^,]+)$/$1/,DEFAULT");
        p.setProperty("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.setProperty("super.users", superUsers);
        p.setProperty("allow.everyone.if.no.acl.found", "false");
        p.setProperty("log.dirs", directory.resolve("data").toString());
        p.setProperty("num.partitions", "1");
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        // Topics come from the catalogue only; a typo in a topic name must not create one.
        p.setProperty("auto.create.topics.enable", "false");
        Path config = directory.resolve("server.properties");
        Files.deleteIfExists(config);
        Files.createFile(config, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            p.store(out, "Written by weir-standalone at every start; it holds the key store's password");
        }
        return config;
    }

    private static List<String> javaCommand(String mainClass) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xms128m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                "-Dweir.component=kafka", "-cp", System.getProperty("java.class.path"), mainClass));
        return command;
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    long pid() {
        return process == null ? -1 : process.pid();
    }

    @Override
    public void close() {
        if (process != null) {
            process.stop(Duration.ofSeconds(60));
        }
    }
}
