package dev.weir.cli.doctor;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code weir doctor}: checks this node as an operator would want a CNI plugin to — BPF filesystem,
 * programs on every endpoint, leftovers, map pressure, the CNI configuration the runtime uses and
 * its plugins, Kafka and consumer lag, the agent, the clock
 * — and says how to fix each problem. Exit 0 when all is well, 4 with warnings, 5 with failures.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check this node's datapath and its connections, with a fix for each problem found.",
            "Run it on the node, as root (bpftool reads the pinned maps and attached programs)."},
        footer = {"", "Exit codes: 0 all well, 4 warnings, 5 failures, 2 usage.",
            "Example: sudo weir doctor --kafka kafka.weir-system:9092"})
public final class Doctor implements Callable<Integer> {

    public static final int WARNINGS = 4;
    public static final int FAILURES = 5;

    @Option(names = "--pin-root", defaultValue = "${env:WEIR_BPF_PIN_ROOT:-/sys/fs/bpf/weir}",
            description = "Where the agent pins its maps (default: ${DEFAULT-VALUE}).")
    Path pinRoot;

    @Option(names = "--cni-conf-dir", defaultValue = "/etc/cni/net.d",
            description = "Where the container runtime reads network configurations (default: ${DEFAULT-VALUE}).")
    Path cniConfDir;

    @Option(names = "--cni-bin-dir", defaultValue = "/opt/cni/bin", split = ":",
            description = "Where the runtime finds CNI plugins, ':'-separated (default: ${DEFAULT-VALUE}).")
    List<Path> cniBinDirs;

    @Option(names = "--kafka", defaultValue = "${env:WEIR_KAFKA_BOOTSTRAP:-127.0.0.1:9092}",
            description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String kafka;

    @Option(names = "--kafka-properties", defaultValue = "${env:WEIR_KAFKA_PROPERTIES_FILE}",
            description = "A Java properties file of Kafka client settings: security.protocol, SASL or TLS credentials, "
                    + "trust store (default: $WEIR_KAFKA_PROPERTIES_FILE).")
    Path kafkaProperties;

    @Option(names = "--agent", defaultValue = "https://127.0.0.1:9965",
            description = "The agent's metrics address on this node (default: ${DEFAULT-VALUE}).")
    String agent;

    @Option(names = "--relay-api", defaultValue = "${env:WEIR_RELAY_API:-https://127.0.0.1:8084}",
            description = "A Weir service to compare clocks with (default: ${DEFAULT-VALUE}).")
    String relay;

    @Option(names = "--ca-cert", defaultValue = "${env:WEIR_CA_CERT}",
            description = "Trust only the CA certificates (PEM) in this file for TLS (default: $WEIR_CA_CERT).")
    Path caCertificates;

    @Option(names = "--lag-warn", defaultValue = "10000",
            description = "Warn when a consumer group is this many records behind (default: ${DEFAULT-VALUE}).")
    long lagWarn;

    @Option(names = "--skew-warn", defaultValue = "2", description = "Warn at this many seconds of clock skew (default: ${DEFAULT-VALUE}).")
    long skewWarn;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter progress = spec.commandLine().getErr();
        List<Finding> findings = new ArrayList<>();
        progress.println("weir doctor: reading the datapath under " + pinRoot + " ...");
        progress.flush();
        try {
            findings.addAll(NodeChecks.judge(Bpftool.read(pinRoot), pinRoot.toString()));
        } catch (Exception e) {
            findings.add(Finding.fail("datapath", "could not read the datapath: " + ClusterChecks.rootCause(e),
                    "run as root on the node, with bpftool installed (Debian: apt install bpftool)"));
        }
        progress.println("weir doctor: reading the CNI configuration in " + cniConfDir + " ...");
        progress.flush();
        try {
            findings.addAll(CniChecks.judge(CniState.read(cniConfDir, cniBinDirs)));
        } catch (Exception e) {
            findings.add(Finding.fail("cni config", "could not read " + cniConfDir + ": " + ClusterChecks.rootCause(e),
                    "run as root on the node"));
        }
        progress.println("weir doctor: checking the agent, Kafka and the clock ...");
        progress.flush();
        java.net.http.HttpClient http;
        try {
            http = dev.weir.cli.ClientTls.client(caCertificates, Duration.ofSeconds(3));
        } catch (RuntimeException unreadable) {
            findings.add(Finding.warn("tls", unreadable.getMessage(), "give --ca-cert the CA file of Weir's APIs"));
            http = dev.weir.cli.ClientTls.client(null, Duration.ofSeconds(3));
        }
        findings.add(ClusterChecks.agent(http, agent));
        findings.addAll(ClusterChecks.kafka(kafka, kafkaProperties, lagWarn));
        findings.add(ClusterChecks.clock(http, relay, Duration.ofSeconds(skewWarn)));
        if ("json".equals(output)) {
            out.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(findings));
        } else {
            print(out, findings);
        }
        out.flush();
        return exitCode(findings);
    }

    static void print(PrintWriter out, List<Finding> findings) {
        for (Finding f : findings) {
            out.printf("%-4s  %-18s %s%n", f.severity(), f.check(), f.message());
            if (!f.fix().isEmpty()) {
                out.printf("      %-18s fix: %s%n", "", f.fix());
            }
        }
        long warnings = findings.stream().filter(f -> f.severity() == Finding.Severity.WARN).count();
        long failures = findings.stream().filter(f -> f.severity() == Finding.Severity.FAIL).count();
        out.println(failures + warnings == 0 ? "all well" : failures + " failure(s), " + warnings + " warning(s)");
    }

    static int exitCode(List<Finding> findings) {
        if (findings.stream().anyMatch(f -> f.severity() == Finding.Severity.FAIL)) {
            return FAILURES;
        }
        return findings.stream().anyMatch(f -> f.severity() == Finding.Severity.WARN) ? WARNINGS : 0;
    }
}
