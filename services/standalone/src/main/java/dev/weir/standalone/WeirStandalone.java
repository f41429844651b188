package dev.weir.standalone;

import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code weir up}: starts the embedded platform in the foreground, prints one ready line, and runs
 * until Ctrl-C or {@code weir down} (SIGTERM), which stop every process it started.
 */
public final class WeirStandalone {

    private WeirStandalone() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDirectory = Path.of(System.getProperty("weir.data", ".weir")).toAbsolutePath();
        PlatformConfig config = PlatformConfig.defaults(dataDirectory);
        long started = System.nanoTime();
        boolean root = Platform.runningAsRoot();
        if (!root) {
            System.err.println("weir: not root: the datapath, the agent and the demo pods are not started");
        }
        EmbeddedWeir weir;
        try {
            weir = EmbeddedWeir.start(config, dataDirectory, EmbeddedWeir.Ports.standard(), root);
        } catch (Exception e) {
            System.err.println("weir: could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Demo runningDemo = weir.demo();
        CountDownLatch stopped = new CountDownLatch(1);
        Path pidFile = dataDirectory.resolve("run").resolve("weir.pid");
        Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()) + "\n");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("weir: stopping");
            weir.close();
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
        for (Map.Entry<String, String> endpoint : weir.platform().endpoints().entrySet()) {
            ready.append(" | ").append(endpoint.getKey()).append(' ').append(endpoint.getValue());
        }
        ready.append(" | policy API ").append(EmbeddedWeir.url(weir.policyPort())).append("/api/v1");
        ready.append(" | DNS API ").append(EmbeddedWeir.url(weir.dnsPort())).append("/api/v1/dns");
        ready.append(" | alerting API ").append(EmbeddedWeir.url(weir.alertingPort())).append("/api/v1/alerting");
        ready.append(" | relay ").append(EmbeddedWeir.url(weir.relayPort())).append("/api/v1/flows")
                .append(" observer 127.0.0.1:").append(weir.relayGrpcPort()).append(" (TLS)")
                .append(" | web UI ").append(EmbeddedWeir.url(weir.relayPort())).append("/ui/");
        ready.append(" | TLS: every API presents a certificate of the local CA ").append(weir.platform().caCertificate())
                .append(" (curl --cacert it; import it into a browser as a trusted authority)");
        ready.append(" | hubble: hubble observe --server 127.0.0.1:").append(weir.relayGrpcPort())
                .append(" --tls --tls-ca-cert-files ").append(weir.platform().caCertificate())
                .append(" --tls-client-cert-file ").append(weir.platform().observerClientCertificate())
                .append(" --tls-client-key-file ").append(weir.platform().observerClientKey());
        if (runningDemo != null) {
            ready.append(" | agent ").append(Demo.NODE).append(" observer 127.0.0.1:").append(runningDemo.agent().observerPort())
                    .append(" (TLS)")
                    .append(" metrics ").append(EmbeddedWeir.url(runningDemo.agent().metricsPort())).append("/metrics")
                    .append(" | pods ").append(String.join(",", runningDemo.podSummary()));
        }
        System.out.println(ready);
        System.out.flush();

        // Watch the children: a platform whose broker or database died is not "up".
        while (stopped.getCount() > 0) {
            Thread.sleep(2000);
            if (stopped.getCount() > 0 && !weir.healthy()) {
                System.err.println("weir: a platform process exited unexpectedly; see the logs in " + dataDirectory);
                System.exit(3);
            }
        }
    }
}
