package dev.weir.agent.cni;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A command the agent runs for a CNI call (ip, nsenter, the IPAM plugin), with a deadline that
 * holds whatever the command does: its input is written and its output read on threads of their
 * own, its error output merged or discarded, and it is killed when the deadline passes.
 */
final class Subprocess {

    /** What it printed (at most 1 MiB) and its exit code. */
    record Result(int exitCode, String output) {
    }

    static final int MAX_OUTPUT = 1 << 20;

    private Subprocess() {
    }

    /**
     * @param mergeErrors true to read the error output with the output (a tool's message), false to
     *        discard it (a plugin's stdout is its JSON answer)
     */
    static Result run(List<String> command, Map<String, String> environment, byte[] input, long timeoutSeconds,
            boolean mergeErrors) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        if (mergeErrors) {
            builder.redirectErrorStream(true);
        } else {
            builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        builder.environment().putAll(environment);
        Process process = builder.start();
        Thread writer = new Thread(() -> {
            try (OutputStream in = process.getOutputStream()) {
                if (input != null) {
                    in.write(input);
                }
            } catch (IOException ignored) {
                // The command did not read its input: its exit code says what it made of that.
            }
        }, "weir-cni-stdin");
        AtomicReference<byte[]> output = new AtomicReference<>(new byte[0]);
        Thread reader = new Thread(() -> {
            try (InputStream out = process.getInputStream()) {
                output.set(out.readNBytes(MAX_OUTPUT));
                out.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // Killed at the deadline.
            }
        }, "weir-cni-stdout");
        writer.setDaemon(true);
        reader.setDaemon(true);
        writer.start();
        reader.start();
        try {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " took longer than " + timeoutSeconds + " s");
            }
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        return new Result(process.exitValue(), new String(output.get(), StandardCharsets.UTF_8));
    }
}
