package dev.weir.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Each component's image: how it starts, as whom, on which ports, with which health check, holding what. */
class ImageConfigTest {

    @TempDir
    static Path scratch;

    record Expected(String module, String name, String mainClass, String user, List<Integer> ports, int healthPort) {
    }

    static final List<Expected> IMAGES = List.of(
            new Expected("services/agent", "weir-agent", "dev.weir.agent.Agent", "0", List.of(4244, 9965), 9965),
            new Expected("services/policy/service", "weir-policy", "dev.weir.policy.service.PolicyServiceApplication",
                    "65532", List.of(8081), 8081),
            new Expected("services/dns", "weir-dns", "dev.weir.dns.DnsServiceApplication", "65532", List.of(8082), 8082),
            new Expected("services/alerting", "weir-alerting", "dev.weir.alerting.AlertingApplication", "65532",
                    List.of(8083), 8083),
            new Expected("services/relay", "weir-relay", "dev.weir.relay.RelayApplication", "65532", List.of(8084, 4245),
                    8084));

    static Stream<Arguments> images() {
        return IMAGES.stream().map(Arguments::of);
    }

    static String chartAppVersion;

    @BeforeAll
    static void chart() throws Exception {
        Map<String, Object> chart = ImageTarball.load(ImageTarball.root().resolve("helm/weir/Chart.yaml"));
        chartAppVersion = String.valueOf(chart.get("appVersion"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void startsTheComponentAsItsUserOnItsPortsWithAHealthCheck(Expected expected) throws Exception {
        ImageTarball image = ImageTarball.of(expected.module(), scratch);

        assertThat(image.repoTag).isEqualTo("ghcr.io/weir-dev/" + expected.name() + ":" + chartAppVersion);
        List<String> entrypoint = image.list("Entrypoint");
        assertThat(entrypoint.get(0)).isEqualTo("java");
        assertThat(entrypoint).contains("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");
        assertThat(entrypoint.subList(entrypoint.size() - 3, entrypoint.size()))
                .containsExactly("-cp", "@/app/jib-classpath-file", expected.mainClass());
        assertThat(image.containerConfig().get("User")).isEqualTo(expected.user());
        @SuppressWarnings("unchecked")
        Map<String, Object> ports = (Map<String, Object>) image.containerConfig().get("ExposedPorts");
        assertThat(ports.keySet()).containsExactlyInAnyOrderElementsOf(
                expected.ports().stream().map(p -> p + "/tcp").toList());
        @SuppressWarnings("unchecked")
        Map<String, Object> health = (Map<String, Object>) image.containerConfig().get("Healthcheck");
        assertThat(health.get("Test")).isEqualTo(List.of("CMD", "/usr/local/bin/weir-healthcheck"));
        assertThat(image.env("WEIR_HEALTH_URL")).startsWith("http://127.0.0.1:" + expected.healthPort() + "/");
        assertThat(image.env("PATH")).startsWith("/opt/java/bin:");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void holdsTheRuntimeAndEveryClassPathEntry(Expected expected) throws Exception {
        ImageTarball image = ImageTarball.of(expected.module(), scratch.resolve("contents"));
        Set<String> files = image.files();

        assertThat(files).contains("/opt/java/bin/java", "/opt/java/lib/server/libjvm.so",
                "/opt/java/lib/security/cacerts", "/lib64/ld-linux-x86-64.so.2", "/bin/busybox",
                "/usr/local/bin/weir-healthcheck", "/app/jib-classpath-file", "/tmp");
        List<String> missing = new ArrayList<>();
        for (String entry : image.read("/app/jib-classpath-file").trim().split(":")) {
            // a directory is on the class path if it holds a file (layers list files, not every directory)
            if (!files.contains(entry) && files.stream().noneMatch(f -> f.startsWith(entry + "/"))) {
                missing.add(entry);
            }
        }
        assertThat(missing).as("class path entries not in the image").isEmpty();
        assertThat(image.read("/etc/passwd")).contains("weir:x:65532:65532:");
        // The debug-only native libraries of the JDK's AWT are left out; the image stays small.
        assertThat(files).doesNotContain("/opt/java/lib/libawt_xawt.so");
        long size = Files.size(ImageTarball.root().resolve(expected.module()).resolve("target/jib-image.tar"));
        assertThat(size).as("image tarball bytes").isLessThan(200L * 1024 * 1024);
    }

    @Test
    void theAgentImageCarriesTheDatapathAndLibweirWhereItLooks() throws Exception {
        ImageTarball agent = ImageTarball.of("services/agent", scratch.resolve("agent"));
        Set<String> files = agent.files();

        assertThat(files).contains("/opt/weir/native/libweir.so", "/opt/weir/native/weir.bpf.o",
                "/lib/x86_64-linux-gnu/libbpf.so.1", "/lib/x86_64-linux-gnu/libelf.so.1");
        assertThat(agent.list("Entrypoint")).contains("-Dweir.native.dir=/opt/weir/native");
    }

    @Test
    void composeRunsTheImagesThisBuildTags() throws Exception {
        Map<String, Object> compose = ImageTarball.load(ImageTarball.root().resolve("docker-compose.yml"));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        List<String> weirImages = services.values().stream().map(s -> String.valueOf(s.get("image")))
                .filter(i -> i.startsWith("ghcr.io/weir-dev/")).distinct().sorted().toList();
        List<String> built = IMAGES.stream().map(e -> "ghcr.io/weir-dev/" + e.name() + ":" + chartAppVersion)
                .sorted().toList();
        assertThat(weirImages).containsExactlyElementsOf(built);
    }
}
