package dev.weir.standalone;

import dev.weir.alerting.AlertingApplication;
import dev.weir.dns.DnsServiceApplication;
import dev.weir.platform.Platform;
import dev.weir.relay.RelayApplication;
import dev.weir.policy.service.PolicyServiceApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import dev.weir.platform.PlatformConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code weir up}: starts the embedded platform in the foreground, prints one ready line, and runs
 * until Ctrl-C or {@code weir down} (SIGTERM), which stop every process it started.
 */
public final class WeirStandalone {

    static final int POLICY_PORT = 8081;
    static final int DNS_PORT = 8082;
    static final int ALERTING_PORT = 8083;
    static final int RELAY_PORT = 8084;

    private WeirStandalone() {
    }

    /** Starts a component and remembers it for stopping; a failure names what did not start. */
    private static void start(Deque<AutoCloseable> running, String what, Callable<AutoCloseable> starter) throws Exception {
        try {
            running.push(starter.call());
        } catch (Exception e) {
            throw new Exception(what + " did not start: " + e.getMessage(), e);
        }
    }

    private static void stopAll(Deque<AutoCloseable> running) {
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                System.err.println("weir: stopping: " + e.getMessage());
            }
        }
    }

    /** A service's settings, listening on loopback only at its port. */
    private static Map<String, String> local(Map<String, String> settings, int port) {
        settings.put("server.port", Integer.toString(port));
        settings.put("server.address", "127.0.0.1");
        return settings;
    }

    public static void main(String[] args) throws Exception {
        Path dataDirectory = Path.of(System.getProperty("weir.data", ".weir")).toAbsolutePath();
        PlatformConfig config = PlatformConfig.defaults(dataDirectory);
        long started = System.nanoTime();
        Platform platform;
        try {
            platform = new Platform(config).start();
        } catch (Exception e) {
            System.err.println("weir: could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        // What has started, stopped in reverse order on failure and on shutdown.
        Deque<AutoCloseable> running = new ArrayDeque<>();
        running.push(platform);
        try {
            Map<String, String> policy = local(platform.serviceSettings("policy"), POLICY_PORT);
            start(running, "the policy service", () -> new SpringApplicationBuilder(PolicyServiceApplication.class)
                    .run(PolicyServiceApplication.arguments(policy)));
            Map<String, String> dns = local(platform.serviceSettings("dns"), DNS_PORT);
            dns.put("weir.dns.state-dir", dataDirectory.resolve("dns-streams").toString());
            start(running, "the DNS service", () -> new SpringApplicationBuilder(DnsServiceApplication.class)
                    .run(DnsServiceApplication.arguments(dns)));
            Map<String, String> alerting = local(platform.serviceSettings("alerting"), ALERTING_PORT);
            alerting.put("weir.alerting.external-url", "http://127.0.0.1:" + ALERTING_PORT);
            start(running, "the alerting service", () -> new SpringApplicationBuilder(AlertingApplication.class)
                    .run(AlertingApplication.arguments(alerting)));
            Map<String, String> relay = local(platform.serviceSettings("relay"), RELAY_PORT);
            start(running, "the relay", () -> new SpringApplicationBuilder(RelayApplication.class)
                    .run(RelayApplication.arguments(relay)));
        } catch (Exception e) {
            System.err.println("weir: " + e.getMessage());
            stopAll(running);
            System.exit(1);
            return;
        }
        Demo demo = null;
        if (Platform.runningAsRoot()) {
            try {
                demo = Demo.start(platform.kafkaBootstrapServers(), dataDirectory, platform.apiToken(), POLICY_PORT);
                running.push(demo);
            } catch (Exception e) {
                System.err.println("weir: the agent and demo pods did not start: " + e.getMessage());
                stopAll(running);
                System.exit(1);
                return;
            }
        } else {
            System.err.println("weir: not root: the datapath, the agent and the demo pods are not started");
        }
        Demo runningDemo = demo;
        CountDownLatch stopped = new CountDownLatch(1);
        Path pidFile = dataDirectory.resolve("run").resolve("weir.pid");
        Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()) + "\n");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("weir: stopping");
            stopAll(running);
            try {
                Files.deleteIfExists(pidFile);
            } catch (Exception ignored) {
                // best effort: a stale pid file is checked against the process table by weir down
            }
            System.out.println("weir: stopped");
            stopped.countDown();
        }, "weir-shutdown"));

        StringBuilder ready = new StringBuilder("weir: ready in ")
                .append((System.nanoTime() - started) / 1_000_000).append(" ms");
        for (Map.Entry<String, String> endpoint : platform.endpoints().entrySet()) {
            ready.append(" | ").append(endpoint.getKey()).append(' ').append(endpoint.getValue());
        }
        ready.append(" | policy API http://127.0.0.1:").append(POLICY_PORT).append("/api/v1");
        ready.append(" | DNS API http://127.0.0.1:").append(DNS_PORT).append("/api/v1/dns");
        ready.append(" | alerting API http://127.0.0.1:").append(ALERTING_PORT).append("/api/v1/alerting");
        ready.append(" | relay http://127.0.0.1:").append(RELAY_PORT).append("/api/v1/flows");
        if (runningDemo != null) {
            ready.append(" | agent ").append(Demo.NODE).append(" observer 127.0.0.1:").append(runningDemo.agent().observerPort())
                    .append(" metrics http://127.0.0.1:").append(runningDemo.agent().metricsPort()).append("/metrics")
                    .append(" | pods ").append(String.join(",", runningDemo.podSummary()));
        }
        System.out.println(ready);
        System.out.flush();

        // Watch the children: a platform whose broker or database died is not "up".
        while (stopped.getCount() > 0) {
            Thread.sleep(2000);
            if (stopped.getCount() > 0 && !platform.healthy()) {
                System.err.println("weir: a platform process exited unexpectedly; see the logs in " + dataDirectory);
                System.exit(3);
            }
        }
    }
}
