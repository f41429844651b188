package dev.weir.helm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.agent.AgentConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * docker-compose.yml runs the same system as the embedded platform: every component, each with
 * an image, a health check and its dependencies started first; the agent privileged on the host
 * network with the BPF filesystem, configured with keys the agent reads. (No Docker engine runs
 * here: the file is checked, not run.)
 */
class ComposeFileTest {

    @SuppressWarnings("unchecked")
    private static Map<String, Object> services() throws Exception {
        Map<String, Object> compose = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(Path.of("..", "docker-compose.yml")));
        return (Map<String, Object>) compose.get("services");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyComponentIsThereWithAnImageAndAHealthCheck() throws Exception {
        Map<String, Object> services = services();
        assertThat(services).containsKeys("kafka", "postgres", "topics", "policy", "dns", "alerting", "relay", "agent");
        services.forEach((name, value) -> {
            Map<String, Object> service = (Map<String, Object>) value;
            assertThat(service).as(name).containsKey("image");
            if (!name.equals("topics")) {
                assertThat(service).as(name).containsKey("healthcheck");
            }
        });
        Map<String, Object> policy = (Map<String, Object>) services.get("policy");
        assertThat((Map<String, Object>) policy.get("depends_on")).containsKeys("topics", "postgres");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theAgentIsPrivilegedOnTheHostNetworkWithTheBpfFilesystemAndKnownKeys() throws Exception {
        Map<String, Object> agent = (Map<String, Object>) services().get("agent");
        assertThat(agent.get("privileged")).isEqualTo(true);
        assertThat(agent.get("network_mode")).isEqualTo("host");
        assertThat((List<String>) agent.get("volumes")).contains("/sys/fs/bpf:/sys/fs/bpf");
        Map<String, Object> environment = (Map<String, Object>) agent.get("environment");
        assertThat(AgentConfig.KEYS).containsAll(environment.keySet());
    }
}
