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
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one process), run from the Kafka
 * artifacts on this JVM's class path in a child JVM. Its log directory is formatted once and kept,
 * so topics and records survive a restart.
 */
final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    private final Path directory;
    private final int port;
    private final int controllerPort;
    private ManagedProcess process;

    EmbeddedKafka(Path directory, int port, int controllerPort) {
        this.directory = directory;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
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
        Map<String, Object> adminConfig = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        try (Admin admin = Admin.create(adminConfig)) {
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
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
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
        try (var out = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            p.store(out, "Written by weir-standalone at every start");
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
