package dev.weir.agent;

import dev.weir.platform.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The agent as a process of its own, as a DaemonSet runs it, configured for a test platform. */
public final class AgentProcess {

    private AgentProcess() {
    }

    /** Where an agent started here keeps its state and weir-cni's socket. */
    public static Path stateDir(String node) {
        return Path.of("/run/weir/nodes", node);
    }

    /** Starts the agent and waits for its "running" line. */
    public static Process start(Platform platform, String node, Path pins, Path log) throws Exception {
        return start(platform, node, pins, log, List.of("-Xmx512m", "-XX:+UseParallelGC"));
    }

    /** Starts the agent with these JVM flags and waits for its "running" line. */
    public static Process start(Platform platform, String node, Path pins, Path log, List<String> jvmFlags)
            throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.weir.agent.Agent"));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Map<String, String> env = builder.environment();
        env.put("WEIR_NODE_NAME", node);
        env.put("WEIR_KAFKA_BOOTSTRAP", platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT).bootstrapServers());
        env.put("WEIR_KAFKA_PROPERTIES_FILE", platform.kafkaPropertiesFile("weir-agent").toString());
        env.put("WEIR_BPF_PIN_ROOT", pins.toString());
        env.put("WEIR_API_TOKEN_FILE", platform.apiTokenFile().toString());
        env.put("WEIR_OBSERVER_ADDRESS", "127.0.0.1:0");
        env.put("WEIR_METRICS_ADDRESS", "127.0.0.1:0");
        env.put("WEIR_STATE_DIR", stateDir(node).toString());
        Process process = builder.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(log) || !Files.readString(log).contains("weir-agent: running")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new IOException("the agent did not start:\n" + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(200);
        }
        return process;
    }
}
