package dev.weir.images;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images run from their own root file systems, as a container runtime would start them (root:
 * chroot with /proc and /dev mounted; there is no container engine on this machine): the relay's
 * entrypoint starts as its user and its image's health check reports healthy; the agent image's
 * libweir.so finds every library it links.
 */
class ImageRunPrivilegedIT {

    @TempDir
    Path scratch;

    private final List<Path> mounts = new ArrayList<>();
    private Process process;

    @AfterEach
    void cleanUp() throws Exception {
        if (process != null) {
            process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
        for (int i = mounts.size() - 1; i >= 0; i--) {
            ImageTarball.run(List.of("umount", "-l", mounts.get(i).toString()));
        }
    }

    @Test
    void theRelayImageStartsAsItsUserAndItsHealthCheckPasses() throws Exception {
        ImageTarball image = ImageTarball.of("services/relay", scratch);
        Path rootfs = rootfs(image);
        Files.writeString(rootfs.resolve("tmp/api-token"), "image-test-token\n");
        int port = freePort();

        // Started with the image's environment only, through the image's own BusyBox env.
        List<String> command = new ArrayList<>(List.of("chroot", "--userspec=65532:65532", rootfs.toString(),
                "/bin/busybox", "env", "-i"));
        command.addAll(image.list("Env"));
        // No broker listens on port 9 of loopback: saying that no credentials are needed is true here.
        command.addAll(List.of("SERVER_PORT=" + port, "WEIR_API_TOKEN_FILE=/tmp/api-token",
                "WEIR_KAFKA_BOOTSTRAP=127.0.0.1:9", "WEIR_KAFKA_UNAUTHENTICATED=true", "WEIR_GRPC_PORT=0"));
        command.add("/bin/sh");
        command.add("-c");
        command.add("cd " + image.containerConfig().get("WorkingDir") + " && exec " + String.join(" ", image.list("Entrypoint")));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(scratch.resolve("relay.log").toFile()).start();

        String healthUrl = "WEIR_HEALTH_URL=http://127.0.0.1:" + port + "/actuator/health/liveness";
        List<String> healthCheck = List.of("chroot", "--userspec=65532:65532", rootfs.toString(), "/bin/busybox",
                "env", "-i", healthUrl, "/usr/local/bin/weir-healthcheck");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        boolean healthy = false;
        while (!healthy && System.nanoTime() < deadline && process.isAlive()) {
            healthy = new ProcessBuilder(healthCheck).redirectErrorStream(true).start().waitFor() == 0;
            if (!healthy) {
                Thread.sleep(500);
            }
        }
        assertThat(healthy).as("health check of the relay image; its log:\n%s",
                Files.readString(scratch.resolve("relay.log"))).isTrue();
        // chroot, env and sh each exec the next: the process started is the JVM itself.
        String status = Files.readString(Path.of("/proc", Long.toString(process.pid()), "status"));
        assertThat(status).containsPattern("(?m)^Name:\\s+java$").containsPattern("(?m)^Uid:\\s+65532\\s");
    }

    @Test
    void theAgentImageResolvesEveryLibraryLibweirLinks() throws Exception {
        ImageTarball image = ImageTarball.of("services/agent", scratch);
        Path rootfs = rootfs(image);

        String libraries = ImageTarball.run(List.of("chroot", rootfs.toString(), "/lib64/ld-linux-x86-64.so.2",
                "--list", "/opt/weir/native/libweir.so"));
        assertThat(libraries).contains("libbpf.so.1 => /lib/x86_64-linux-gnu/libbpf.so.1").doesNotContain("not found");
        String version = ImageTarball.run(List.of("chroot", rootfs.toString(), "/bin/sh", "-c",
                "/opt/java/bin/java -version 2>&1"));
        assertThat(version).contains("OpenJDK");
    }

    private Path rootfs(ImageTarball image) throws IOException, InterruptedException {
        Path rootfs = scratch.resolve("rootfs");
        image.unpack(rootfs);
        Path proc = Files.createDirectories(rootfs.resolve("proc"));
        ImageTarball.run(List.of("mount", "-t", "proc", "proc", proc.toString()));
        mounts.add(proc);
        Path dev = Files.createDirectories(rootfs.resolve("dev"));
        ImageTarball.run(List.of("mount", "--rbind", "/dev", dev.toString()));
        mounts.add(dev);
        return rootfs;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
