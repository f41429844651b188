package dev.weir.testbed;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a CNI plugin binary as a container runtime does: CNI_* variables, the configuration on stdin. */
public final class CniPlugin {

    /** What the plugin printed and exited with. */
    public record Outcome(int exitCode, String stdout) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    private final Path binary;
    private final Map<String, String> extraEnvironment;

    /** @param extraEnvironment more variables (weir-cni's WEIR_CNI_SOCKET when the agent's socket is not the default) */
    public CniPlugin(Path binary, Map<String, String> extraEnvironment) {
        this.binary = binary;
        this.extraEnvironment = Map.copyOf(extraEnvironment);
    }

    public Outcome run(String command, String containerId, String netns, String ifname, String args, String cniPath,
            String config) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(binary.toString());
        Map<String, String> env = builder.environment();
        env.putAll(extraEnvironment);
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", containerId);
        env.put("CNI_NETNS", netns);
        env.put("CNI_IFNAME", ifname);
        env.put("CNI_ARGS", args);
        env.put("CNI_PATH", cniPath);
        builder.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process process = builder.start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(config.getBytes(StandardCharsets.UTF_8));
        } catch (IOException exited) {
            // The plugin answered without reading its input (VERSION, a refusal): its output says what.
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(90, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(binary + " " + command + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new Outcome(process.exitValue(), out);
    }
}
