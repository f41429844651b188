package dev.weir.agent;

import java.nio.file.Path;
import java.util.Map;

/**
 * The agent's settings. The same keys are read from the environment by every way of running it
 * (the embedded platform, the Helm DaemonSet, docker-compose): WEIR_NODE_NAME, WEIR_KAFKA_BOOTSTRAP,
 * WEIR_BPF_PIN_ROOT, WEIR_POLICY_MAP_ENTRIES, WEIR_FLOW_QUEUE, WEIR_OBSERVER_RING,
 * WEIR_REMOVE_PODS_ON_STOP.
 *
 * @param pinRoot where the datapath's maps are pinned; shared by every run of this node's agent
 * @param flowQueue flows buffered between the ring-buffer reader and Kafka
 * @param observerRing recent flows the Observer API holds
 * @param removePodsOnStop whether stopping removes the pods this agent created (the demo does;
 *                         a node agent does not own its pods)
 */
public record AgentConfig(String nodeName, String kafkaBootstrap, Path pinRoot, int policyMapEntries, int flowQueue,
        int observerRing, boolean removePodsOnStop) {

    public static AgentConfig fromEnvironment(Map<String, String> env) {
        return new AgentConfig(
                require(env, "WEIR_NODE_NAME"),
                env.getOrDefault("WEIR_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
                Path.of(env.getOrDefault("WEIR_BPF_PIN_ROOT", "/sys/fs/bpf/weir")),
                Integer.parseInt(env.getOrDefault("WEIR_POLICY_MAP_ENTRIES", "16384")),
                Integer.parseInt(env.getOrDefault("WEIR_FLOW_QUEUE", "65536")),
                Integer.parseInt(env.getOrDefault("WEIR_OBSERVER_RING", "16384")),
                Boolean.parseBoolean(env.getOrDefault("WEIR_REMOVE_PODS_ON_STOP", "false")));
    }

    private static String require(Map<String, String> env, String key) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(key + " is required");
        }
        return value;
    }

    public AgentConfig withNode(String node, Path pins) {
        return new AgentConfig(node, kafkaBootstrap, pins, policyMapEntries, flowQueue, observerRing, removePodsOnStop);
    }
}
