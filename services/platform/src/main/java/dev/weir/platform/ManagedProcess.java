package dev.weir.platform;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child process of the platform that cannot outlive it. The command runs under a small shell
 * wrapper that holds the read end of a pipe from this JVM: when the pipe closes, because the
 * platform stops or because its JVM died, even by SIGKILL, the wrapper sends the command its
 * stop signal and waits for it. So no orphan is left behind, whatever happens to the parent.
 */
public final class ManagedProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ManagedProcess.class);

    /*
     * $1: signal that stops the command gracefully; the rest: the command.
     * fd 3 keeps our stdin (the pipe from the JVM) for the watcher, because asynchronous
     * commands of a non-interactive shell get /dev/null as stdin.
     */
    private static final String WRAPPER = """
            sig="$1"; shift
            exec 3<&0
            "$@" </dev/null &
            child=$!
            trap 'kill -s "$sig" "$child" 2>/dev/null' TERM INT HUP
            ( cat <&3 >/dev/null; kill -s "$sig" "$child" 2>/dev/null ) &
            exec 3<&-
            status=0
            while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
            exit $status
            """;

    private final String name;
    private final Process process;
    private final OutputStream lifeline;
    private final Path log;

    private ManagedProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.lifeline = process.getOutputStream();
        this.log = log;
    }

    /**
     * @param stopSignal the signal the command shuts down cleanly on (TERM for Kafka, INT for
     *                   PostgreSQL's fast shutdown)
     */
    public static ManagedProcess start(String name, List<String> command, String stopSignal, Path log,
            Map<String, String> environment) throws IOException {
        List<String> full = new ArrayList<>(List.of("/bin/sh", "-c", WRAPPER, "weir-" + name, stopSignal));
        full.addAll(command);
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        builder.environment().putAll(environment);
        LOG.debug("starting {}: {}", name, command);
        return new ManagedProcess(name, builder.start(), log);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** The last lines of the process's log, to explain a failure. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops gracefully within the timeout, then forcibly, with every descendant. */
    public void stop(Duration timeout) {
        try {
            lifeline.close();
        } catch (IOException ignored) {
            // the pipe is already closed: the wrapper is stopping or gone
        }
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} did not stop within {}; killing it", name, timeout);
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(30));
    }
}
