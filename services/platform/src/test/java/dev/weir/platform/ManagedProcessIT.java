package dev.weir.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A platform child never outlives the platform, even when the platform's JVM is SIGKILLed. */
class ManagedProcessIT {

    /** Stands in for the platform's JVM: starts a managed child and waits to be killed. */
    public static final class Parent {
        public static void main(String[] args) throws Exception {
            ManagedProcess child = ManagedProcess.start("sleeper", List.of("sleep", "300"), "TERM",
                    Path.of(args[0]), Map.of());
            System.out.println("started " + child.pid());
            System.out.flush();
            Thread.sleep(300_000);
        }
    }

    @Test
    void childrenDieWhenTheParentIsKilled() throws Exception {
        Path log = Files.createTempDirectory("weir-managed").resolve("sleeper.log");
        Process parent = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Parent.class.getName(), log.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).startsWith("started ");
            await().atMost(Duration.ofSeconds(10)).until(() -> parent.descendants()
                    .anyMatch(p -> p.info().command().orElse("").endsWith("sleep")));
            List<ProcessHandle> descendants = parent.descendants().toList();
            assertThat(descendants).isNotEmpty();

            parent.destroyForcibly().waitFor();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(descendants).noneMatch(ProcessHandle::isAlive));
        } finally {
            parent.destroyForcibly();
        }
    }

    @Test
    void stopSendsTheGracefulSignalAndWaits() throws Exception {
        Path dir = Files.createTempDirectory("weir-managed");
        Path marker = dir.resolve("stopped");
        // The command records that it received its stop signal before exiting. (Not INT: a shell
        // started in the background ignores it, and cannot trap it; PostgreSQL installs its own.)
        ManagedProcess process = ManagedProcess.start("trapper", List.of("/bin/sh", "-c",
                "trap 'echo TERM > " + marker + "; exit 0' TERM; while true; do sleep 0.1; done"), "TERM",
                dir.resolve("trapper.log"), Map.of());
        List<ProcessHandle> descendants = ProcessHandle.of(process.pid()).orElseThrow().descendants().toList();
        process.stop(Duration.ofSeconds(10));
        assertThat(process.isAlive()).isFalse();
        assertThat(Files.readString(marker).trim()).isEqualTo("TERM");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(descendants).noneMatch(ProcessHandle::isAlive));
    }
}
