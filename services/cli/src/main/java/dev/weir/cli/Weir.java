package dev.weir.cli;

import dev.weir.api.alerting.AlertView;
import dev.weir.api.alerting.SilenceRequest;
import dev.weir.api.alerting.SilenceView;
import dev.weir.api.dns.DnsInsight;
import dev.weir.api.policy.AppliedPolicy;
import dev.weir.api.policy.ApplyResponse;
import dev.weir.api.policy.EndpointStatus;
import dev.weir.api.policy.ExplainRequest;
import dev.weir.api.policy.ExplainResponse;
import dev.weir.api.policy.ExplainSide;
import dev.weir.api.policy.SuggestResult;
import dev.weir.api.policy.StagedDrop;
import dev.weir.api.policy.StagedStatus;
import dev.weir.api.policy.PromoteResponse;
import dev.weir.api.policy.LintWarning;
import dev.weir.api.policy.PolicyDeleted;
import dev.weir.api.policy.PolicyDetail;
import dev.weir.api.policy.PolicyRevision;
import dev.weir.api.policy.PolicySummary;
import dev.weir.api.policy.PreviewChange;
import dev.weir.api.policy.PreviewResult;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code weir}: the command line over Weir's REST APIs. Exit codes: 0 done, 1 refused (bad input,
 * not found, bad token), 2 usage, 3 a service unreachable or failing.
 */
@Command(name = "weir", mixinStandardHelpOptions = true, version = "weir 0.1.0",
        description = "Network security and observability for Kubernetes, from the command line.",
        subcommands = {Observe.class, Weir.PolicyCommand.class, Weir.DnsCommand.class, Weir.AlertsCommand.class,
            Weir.Status.class, dev.weir.cli.doctor.Doctor.class},
        footer = {"", "Exit codes: 0 done, 1 refused (bad input, not found, bad token), 2 usage, 3 unreachable",
            "(weir status and weir doctor: 4 warnings, 5 failures; weir policy status: 4 not enforced everywhere;",
            "weir policy explain: 5 dropped; weir policy suggest: 6 when its preview shows allowed flows dropped).",
            "The APIs and the token default to ./weir up's; set WEIR_POLICY_API, WEIR_DNS_API, WEIR_ALERTING_API,",
            "WEIR_TOKEN_FILE and WEIR_CA_CERT (or the options) for a cluster."})
public final class Weir {

    @Option(names = "--policy-api", defaultValue = "${env:WEIR_POLICY_API:-https://127.0.0.1:8081}",
            description = "The policy service (default: ${DEFAULT-VALUE}).")
    String policyApi;

    @Option(names = "--dns-api", defaultValue = "${env:WEIR_DNS_API:-https://127.0.0.1:8082}",
            description = "The DNS service (default: ${DEFAULT-VALUE}).")
    String dnsApi;

    @Option(names = "--alerting-api", defaultValue = "${env:WEIR_ALERTING_API:-https://127.0.0.1:8083}",
            description = "The alerting service (default: ${DEFAULT-VALUE}).")
    String alertingApi;

    @Option(names = "--relay-api", defaultValue = "${env:WEIR_RELAY_API:-https://127.0.0.1:8084}",
            description = "The relay (default: ${DEFAULT-VALUE}).")
    String relayApi;

    @Option(names = "--token-file", defaultValue = "${env:WEIR_TOKEN_FILE:-.weir/secrets/api-token}",
            description = "The file holding the API token (default: ${DEFAULT-VALUE}).")
    Path tokenFile;

    @Option(names = "--ca-cert", defaultValue = "${env:WEIR_CA_CERT}",
            description = "Trust only the CA certificates (PEM) in this file for the APIs' TLS (default: $WEIR_CA_CERT; "
                    + "without it, the JVM's trusted authorities).")
    Path caCertificates;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private java.net.http.HttpClient http;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line, printing to out and err; the exit code as {@code weir} would return it. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Weir());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            if (e instanceof Api.Failure failure) {
                err.println("weir: " + failure.getMessage());
                err.flush();
                return failure.exitCode;
            }
            throw e;
        });
        return cli.execute(args);
    }

    Api api(String base) {
        return new Api(base, Api.token(tokenFile), http());
    }

    /** One client for every call of a command, trusting what --ca-cert says. */
    java.net.http.HttpClient http() {
        if (http == null) {
            http = ClientTls.client(caCertificates, java.time.Duration.ofSeconds(5));
        }
        return http;
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints the JSON as it came (-o json) or hands it, read as the API's type, to the table printer. */
    <T> void show(JsonNode json, Class<T> type, java.util.function.Consumer<T> table) {
        if ("json".equals(output)) {
            out().println(json.toPrettyString());
            out().flush();
        } else {
            table.accept(Api.read(json, type));
        }
    }

    /**
     * Runs a call that may take a while (a scan of Kafka), saying so on an interactive terminal
     * meanwhile; the note is erased when the answer comes. Scripts (no console) see nothing extra.
     */
    <T> T slow(String what, java.util.function.Supplier<T> call) {
        if (System.console() == null) {
            return call.get();
        }
        PrintWriter err = spec.commandLine().getErr();
        String note = "weir: " + what + " ...";
        err.print(note + "\r");
        err.flush();
        try {
            return call.get();
        } finally {
            err.print(" ".repeat(note.length()) + "\r");
            err.flush();
        }
    }

    /** KIND/NAMESPACE/NAME as the commands take it: "-" for a cluster-wide policy. */
    static String ref(String kind, String namespace, String name) {
        return kind + "/" + (namespace.isEmpty() ? "-" : namespace) + "/" + name;
    }

    static String read(Path file) {
        try {
            return "-".equals(file.toString()) ? new String(System.in.readAllBytes()) : Files.readString(file);
        } catch (java.io.IOException e) {
            throw new Api.Failure(Api.REFUSED, "cannot read " + file + ": " + e.getMessage());
        }
    }

    static String contentType(Path file) {
        return file.toString().endsWith(".json") ? "application/json" : "application/yaml";
    }

    // ---------------------------------------------------------------- policy

    @Command(name = "policy", mixinStandardHelpOptions = true, description = "Apply, inspect, explain and preview network policies.",
            subcommands = {PolicyApply.class, PolicyList.class, PolicyGet.class, PolicyDelete.class, PolicyStatus.class,
                PolicyExplain.class, PolicyPreview.class, PolicySuggest.class, PolicyStaged.class, PolicyPromote.class,
                PolicyUnstage.class, PolicyRestore.class})
    static final class PolicyCommand {
        @ParentCommand
        Weir weir;
    }

    @Command(name = "apply", mixinStandardHelpOptions = true, description = "Apply the policies of a YAML or JSON file (all of them, or none).")
    static final class PolicyApply implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Option(names = {"-f", "--file"}, required = true, description = "The file ('-' for standard input).")
        Path file;

        @Option(names = "--dry-run", description = "Validate and lint only.")
        boolean dryRun;

        @Option(names = "--staged", description = "Stage the policies: judged against live flows, never enforced "
                + "(weir policy staged shows what they would drop; weir policy promote enforces one).")
        boolean staged;

        @Option(names = "--wait", paramLabel = "SECONDS", description = "Wait up to SECONDS (at most 60) until every "
                + "endpoint enforces each applied revision; exit 4 if one does not.")
        Integer wait;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            if (wait != null && (wait < 1 || wait > 60)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--wait takes 1..60 seconds");
            }
            JsonNode result = weir.api(weir.policyApi).post("/api/v1/policies" + Api.query(mapOf("dryRun", dryRun ? "true" : null,
                    "staged", staged ? "true" : null)), contentType(file), read(file));
            if (wait != null && !dryRun && !staged) {
                return awaitEnforced(weir, Api.read(result, ApplyResponse.class), wait);
            }
            weir.show(result, ApplyResponse.class, answer -> {
                for (AppliedPolicy applied : answer.applied()) {
                    weir.out().printf("%s %s%s%n", dryRun ? "valid" : answer.staged() ? "staged"
                                    : applied.changed() ? "applied" : "unchanged",
                            ref(applied.kind(), applied.namespace(), applied.name()),
                            dryRun || answer.staged() ? "" : " (revision " + applied.revision() + ")");
                }
                printWarnings(weir.out(), answer.warnings());
                weir.out().flush();
            });
            return 0;
        }
    }

    /**
     * Applied, then each revision waited for on the service (one request each, answered when
     * every endpoint has acknowledged it or the wait ends): exit 4 if any is not enforced everywhere.
     */
    private static int awaitEnforced(Weir weir, ApplyResponse answer, int wait) {
        for (AppliedPolicy applied : answer.applied()) {
            weir.out().printf("%s %s (revision %d)%n", applied.changed() ? "applied" : "unchanged",
                    ref(applied.kind(), applied.namespace(), applied.name()), applied.revision());
        }
        printWarnings(weir.out(), answer.warnings());
        weir.out().flush();
        // Every wait counts against one deadline: N policies wait SECONDS in all, not N times.
        long deadline = System.nanoTime() + wait * 1_000_000_000L;
        boolean everywhere = true;
        for (AppliedPolicy applied : answer.applied()) {
            int left = (int) Math.max(1, Math.min(wait, (deadline - System.nanoTime() + 999_999_999L) / 1_000_000_000L));
            String path = "/api/v1/policies/" + applied.kind() + "/" + (applied.namespace().isEmpty() ? "-" : applied.namespace())
                    + "/" + applied.name() + "/status" + Api.query(mapOf("wait", Integer.toString(left),
                    "revision", Long.toString(applied.revision())));
            long started = System.nanoTime();
            dev.weir.api.policy.PolicyStatus status = Api.read(weir.api(weir.policyApi).get(path,
                    java.time.Duration.ofSeconds(left + 15)), dev.weir.api.policy.PolicyStatus.class);
            boolean enforced = status.settled() && status.revision() >= applied.revision()
                    && status.enforced() == status.endpoints();
            everywhere &= enforced;
            weir.out().printf("%s (revision %d): %s on %d of %d endpoints%s%n",
                    ref(applied.kind(), applied.namespace(), applied.name()), applied.revision(),
                    status.settled() ? "enforced" : "still propagating; enforced", status.enforced(), status.endpoints(),
                    enforced ? " after " + (System.nanoTime() - started) / 1_000_000 + " ms more" : "; nodes behind: " + String.join(", ", status.nodesBehind().subList(0, Math.min(10, status.nodesBehind().size()))) + (status.nodesBehind().size() > 10 ? ", …" : ""));
        }
        weir.out().flush();
        return everywhere ? 0 : 4;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the policies in force.")
    static final class PolicyList implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.policyApi).get("/api/v1/policies"), PolicySummary[].class, policies -> {
                // The namespace as a path takes it: "-" for a cluster-wide policy.
                Table table = new Table("KIND", "NAMESPACE", "NAME", "REVISION", "UPDATED");
                for (PolicySummary p : policies) {
                    table.row(p.kind(), p.namespace().isEmpty() ? "-" : p.namespace(), p.name(), p.revision(), p.updated());
                }
                table.print(weir.out());
            });
            return 0;
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a policy and its revisions: KIND/NAMESPACE/NAME ('-' for no namespace).")
    static final class PolicyGet implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.policyApi).get("/api/v1/policies/" + ref), PolicyDetail.class, policy -> {
                weir.out().println(policy.document());
                Table table = new Table("REVISION", "SOURCE", "AUTHOR", "AT");
                for (PolicyRevision r : policy.revisions()) {
                    table.row(r.revision() + (r.deleted() ? " (deleted)" : ""), r.source(), r.author(), r.created());
                }
                table.print(weir.out());
            });
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a policy: KIND/NAMESPACE/NAME.")
    static final class PolicyDelete implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            PolicyDeleted result = Api.read(weir.api(weir.policyApi).delete("/api/v1/policies/" + ref), PolicyDeleted.class);
            weir.out().println("deleted " + ref + " (revision " + result.revision() + ")");
            weir.out().flush();
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Which endpoints and nodes enforce a policy's revision: KIND/NAMESPACE/NAME.")
    static final class PolicyStatus implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Option(names = "--wait", paramLabel = "SECONDS", description = "Wait up to SECONDS (at most 60) until every "
                + "endpoint enforces the current revision.")
        Integer wait;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            JsonNode answer = weir.api(weir.policyApi).get("/api/v1/policies/" + ref + "/status"
                    + Api.query(mapOf("wait", wait == null ? null : Integer.toString(wait))),
                    java.time.Duration.ofSeconds(60 + (wait == null ? 0 : wait)));
            dev.weir.api.policy.PolicyStatus status = Api.read(answer, dev.weir.api.policy.PolicyStatus.class);
            weir.show(answer, dev.weir.api.policy.PolicyStatus.class, s -> {
                if (s.revision() == 0) {
                    weir.out().println("not enforced");
                } else {
                    weir.out().printf("revision %d: enforced on %d of %d endpoints%n", s.revision(), s.enforced(), s.endpoints());
                    Table table = new Table("NODE", "POD", "ENFORCED", "ACKED", "BEHIND", "ERROR");
                    for (EndpointStatus d : s.details()) {
                        table.row(d.node(), d.pod(), d.enforced(), d.ackedRevision(),
                                d.behindMillis() == 0 ? "" : d.behindMillis() + " ms", d.error());
                    }
                    table.print(weir.out());
                }
                if (s.staged() != null) {
                    printStaged(weir.out(), s.staged());
                }
            });
            // Staged only, or enforced nowhere yet: not what a script waiting for "enforced" wants.
            return status.revision() > 0 && status.enforced() == status.endpoints() ? 0 : 4;
        }
    }

    @Command(name = "explain", mixinStandardHelpOptions = true, description = "The verdict for a new connection, and the policies that decide it.")
    static final class PolicyExplain implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Option(names = "--from", required = true, description = "namespace/pod or an address")
        String from;

        @Option(names = "--to", required = true, description = "namespace/pod or an address")
        String to;

        @Option(names = "--port", required = true, description = "A number, or a port name of the destination pod (grpc)")
        String port;

        @Option(names = "--protocol", defaultValue = "TCP")
        String protocol;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            JsonNode result = weir.api(weir.policyApi).post("/api/v1/explain", "application/json",
                    Api.JSON.writeValueAsString(new ExplainRequest(from, to, port, protocol)));
            ExplainResponse explained = Api.read(result, ExplainResponse.class);
            weir.show(result, ExplainResponse.class, answer -> {
                String number = Integer.toString(answer.port());
                weir.out().printf("%s -> %s %s/%s: %s%n", from, to, number.equals(port) ? port : port + " (" + number + ")",
                        protocol, answer.verdict());
                String[] directions = {"egress", "ingress"};
                ExplainSide[] sides = {answer.egress(), answer.ingress()};
                for (int i = 0; i < sides.length; i++) {
                    printSide(weir.out(), directions[i], sides[i]);
                }
                weir.out().flush();
            });
            return "FORWARDED".equals(explained.verdict()) ? 0 : 5;
        }
    }

    @Command(name = "suggest", mixinStandardHelpOptions = true, description = "Least-privilege policies per workload from the "
            + "recorded flows of a time range, as YAML to review and apply (its preview and notes as comments at the end).")
    static final class PolicySuggest implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Option(names = "--since", defaultValue = "1h", description = "Start of the range: 10m, 1h, or an instant")
        String since;

        @Option(names = "--until", description = "End of the range (default: now)")
        String until;

        @Option(names = {"-n", "--namespace"}, description = "Only the workloads of this namespace")
        String namespace;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            JsonNode result = weir.slow("reading the flows since " + since, () -> weir.api(weir.policyApi)
                    .get("/api/v1/policies/suggestions" + Api.query(mapOf("since", since, "until", until, "namespace", namespace))));
            SuggestResult suggested = Api.read(result, SuggestResult.class);
            weir.show(result, SuggestResult.class, answer -> {
                weir.out().print(answer.document());
                weir.out().printf("# %d flows read, %s to %s%s%n", answer.flowsRead(), answer.since(), answer.until(),
                        answer.truncated() ? " (the read stopped at its bound)" : "");
                PreviewResult preview = answer.preview();
                if (preview != null) {
                    weir.out().printf("# preview over the same flows: %d connections judged, %d would change%n",
                            preview.connectionsJudged(), preview.changes().size());
                    for (PreviewChange c : preview.changes()) {
                        weir.out().printf("#   %s -> %s %d/%s: %s -> %s (%d flows)%n", c.source(), c.destination(), c.port(),
                                c.protocol(), c.before(), c.after(), c.flows());
                    }
                }
                answer.notes().forEach(n -> weir.out().println("# note: " + n.replace('\n', ' ')));
                weir.out().flush();
            });
            return suggested.preview() != null && suggested.preview().changes().stream()
                    .anyMatch(c -> "DROPPED".equals(c.after())) ? 6 : 0;
        }
    }

    /** Lint's warnings, one line each. */
    static void printWarnings(PrintWriter out, List<LintWarning> warnings) {
        for (LintWarning warning : warnings) {
            out.printf("warning: %s %s: %s%n", warning.policy(), warning.field(), warning.message());
        }
    }

    /** What a staged policy judged, and the connections it would drop. */
    static void printStaged(PrintWriter out, StagedStatus s) {
        out.printf("staged since %s by %s: would drop %d of %d connections judged%n", s.stagedAt(), s.author(), s.wouldDrop(),
                s.judged());
        if (!s.error().isEmpty()) {
            out.println("  " + s.error());
        }
        if (!s.examples().isEmpty()) {
            Table table = new Table("SOURCE", "DESTINATION", "PORT", "FLOWS", "FIRST", "LAST");
            for (StagedDrop d : s.examples()) {
                table.row(d.source(), d.destination(), d.port() + "/" + d.protocol(), d.flows(), d.firstSeen(), d.lastSeen());
            }
            table.print(out);
        }
    }

    @Command(name = "staged", mixinStandardHelpOptions = true, description = "The staged policies and what each would drop.")
    static final class PolicyStaged implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.policyApi).get("/api/v1/policies/staged"), StagedStatus[].class, all -> {
                Table table = new Table("KIND", "NAMESPACE", "NAME", "STAGED", "JUDGED", "WOULD DROP", "TOP DROP");
                for (StagedStatus s : all) {
                    StagedDrop top = s.examples().isEmpty() ? null : s.examples().get(0);
                    table.row(s.kind(), s.namespace().isEmpty() ? "-" : s.namespace(), s.name(), s.stagedAt(), s.judged(),
                            s.wouldDrop(), top == null ? "" : top.source() + " -> " + top.destination() + " " + top.port() + "/"
                                    + top.protocol() + " (" + top.flows() + ")");
                }
                table.print(weir.out());
            });
            return 0;
        }
    }

    @Command(name = "promote", mixinStandardHelpOptions = true, description = "Enforce a staged policy: KIND/NAMESPACE/NAME. "
            + "Shows its impact preview and what it judged while staged first, and asks before enforcing new drops.")
    static final class PolicyPromote implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Option(names = "--minutes", defaultValue = "10", description = "Minutes of recorded flows the preview judges again")
        int minutes;

        @Option(names = {"-y", "--yes"}, description = "Promote without asking, even when the preview shows new drops")
        boolean yes;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            String path = "/api/v1/policies/" + ref + "/promote?minutes=" + minutes;
            PromoteResponse preview = Api.read(weir.slow("replaying the last " + minutes + " minutes of flows",
                    () -> weir.api(weir.policyApi).post(path + "&dryRun=true", "application/json", "")), PromoteResponse.class);
            printStaged(weir.out(), preview.staged());
            List<PreviewChange> drops = preview.preview().changes().stream().filter(c -> "DROPPED".equals(c.after())).toList();
            weir.out().printf("preview over the last %d minutes: %d connections judged, %d would be dropped%n", minutes,
                    preview.preview().connectionsJudged(), drops.size());
            for (PreviewChange c : drops) {
                weir.out().printf("  %s -> %s %d/%s (%d flows)%n", c.source(), c.destination(), c.port(), c.protocol(), c.flows());
            }
            printWarnings(weir.out(), preview.warnings());
            weir.out().flush();
            boolean wouldDrop = !drops.isEmpty() || preview.staged().wouldDrop() > 0;
            if (wouldDrop && !yes && !confirmed(weir, "enforce " + ref + " and drop these connections?")) {
                weir.out().println("not promoted");
                weir.out().flush();
                return 1;
            }
            // What was looked at is what is promoted: a staging replaced meanwhile is refused (409).
            PromoteResponse done = Api.read(weir.api(weir.policyApi).post(path + "&staging=" + preview.staged().id(),
                    "application/json", ""), PromoteResponse.class);
            for (AppliedPolicy applied : done.applied()) {
                weir.out().printf("promoted %s (revision %d)%n", ref(applied.kind(), applied.namespace(), applied.name()),
                        applied.revision());
            }
            weir.out().flush();
            return 0;
        }
    }

    /** Asks on the terminal; without one (a script) the answer is no: scripts say --yes. */
    static boolean confirmed(Weir weir, String question) {
        java.io.Console console = System.console();
        if (console == null) {
            weir.spec.commandLine().getErr().println("weir: " + question + " (no terminal to ask on: add --yes)");
            weir.spec.commandLine().getErr().flush();
            return false;
        }
        String answer = console.readLine("%s [y/N] ", question);
        return answer != null && (answer.trim().equalsIgnoreCase("y") || answer.trim().equalsIgnoreCase("yes"));
    }

    @Command(name = "unstage", mixinStandardHelpOptions = true, description = "Unstage a policy: KIND/NAMESPACE/NAME (its enforced revision stays).")
    static final class PolicyUnstage implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.api(weir.policyApi).delete("/api/v1/policies/" + ref + "/staged");
            weir.out().println("unstaged " + ref);
            weir.out().flush();
            return 0;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, description = "Apply an earlier revision of a policy again "
            + "(the latest before the current by default): KIND/NAMESPACE/NAME.")
    static final class PolicyRestore implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Parameters(paramLabel = "KIND/NAMESPACE/NAME")
        String ref;

        @Option(names = "--revision", description = "The revision to restore")
        Long revision;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            JsonNode result = weir.api(weir.policyApi).post("/api/v1/policies/" + ref + "/restore"
                    + Api.query(mapOf("revision", revision == null ? null : revision.toString())), "application/json", "");
            weir.show(result, ApplyResponse.class, answer -> {
                for (AppliedPolicy applied : answer.applied()) {
                    weir.out().printf("restored %s as revision %d%n", ref(applied.kind(), applied.namespace(), applied.name()),
                            applied.revision());
                }
                printWarnings(weir.out(), answer.warnings());
                weir.out().flush();
            });
            return 0;
        }
    }

    /** One end: the verdict there, what decided it, and each policy that selects the pod with its matching rules. */
    static void printSide(java.io.PrintWriter out, String direction, ExplainSide s) {
        String verdict;
        if (s.pod().isEmpty()) {
            verdict = "not a pod of the cluster, nothing enforced here";
        } else if (!s.isolated() && s.policy().isEmpty()) {
            verdict = "allowed: no policy isolates it for " + direction;
        } else if (s.policy().isEmpty()) {
            verdict = "denied: isolated for " + direction + ", and no rule of the policies below matches";
        } else {
            verdict = (s.allowed() ? "allowed by " : "denied by ") + s.policy() + (s.deny() ? " (a deny rule)" : "")
                    + " [" + s.match() + "]";
        }
        out.printf("  %-7s %s: %s%n", direction, s.pod().isEmpty() ? "(not a pod)" : s.pod(), verdict);
        for (dev.weir.api.policy.ExplainPolicy p : s.policies()) {
            out.printf("          %s: %s%n", p.policy(), p.matched().isEmpty()
                    ? "none of its " + p.rules() + " " + direction + " rule" + (p.rules() == 1 ? "" : "s") + " matches"
                    : "matches " + String.join(", ", p.matched()) + " (of " + p.rules() + ")");
        }
    }

    @Command(name = "preview", mixinStandardHelpOptions = true, description = "Replay recorded flows against proposed policies: what would change.")
    static final class PolicyPreview implements Callable<Integer> {
        @ParentCommand
        PolicyCommand parent;

        @Option(names = {"-f", "--file"}, required = true)
        Path file;

        @Option(names = "--minutes", defaultValue = "10")
        int minutes;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            JsonNode result = weir.slow("replaying the last " + minutes + " minutes of flows", () -> weir.api(weir.policyApi)
                    .post("/api/v1/policies/preview?minutes=" + minutes, contentType(file), read(file)));
            weir.show(result, PreviewResult.class, preview -> {
                Table table = new Table("SOURCE", "DESTINATION", "PORT", "NOW", "THEN", "FLOWS");
                for (PreviewChange c : preview.changes()) {
                    table.row(c.source(), c.destination(), c.port() + "/" + c.protocol(), c.before(), c.after(), c.flows());
                }
                table.print(weir.out());
                if (preview.truncated()) {
                    weir.out().println("(the replay stopped at its bound: " + preview.flowsRead() + " flows read)");
                }
            });
            return 0;
        }
    }

    // ---------------------------------------------------------------- dns

    @Command(name = "dns", mixinStandardHelpOptions = true, description = "DNS health, top lists and insights.",
            subcommands = {DnsHealth.class, DnsTop.class, DnsInsights.class})
    static final class DnsCommand {
        @ParentCommand
        Weir weir;
    }

    @Command(name = "health", mixinStandardHelpOptions = true, description = "DNS health per namespace, or per pod of one (-n).")
    static final class DnsHealth implements Callable<Integer> {
        @ParentCommand
        DnsCommand parent;

        @Option(names = {"-n", "--namespace"})
        String namespace;

        @Option(names = "--since", defaultValue = "15m")
        String since;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.dnsApi).get("/api/v1/dns/health" + Api.query(mapOf("namespace", namespace, "since", since))),
                    dev.weir.api.dns.DnsHealth[].class, rows -> {
                        Table table = new Table(namespace == null ? "NAMESPACE" : "POD", "QUERIES", "NXDOMAIN", "SERVFAIL",
                                "UNANSWERED", "DROPPED", "SEARCH-PATH", "P95 MS", "INSIGHTS");
                        for (dev.weir.api.dns.DnsHealth h : rows) {
                            table.row(namespace == null ? h.namespace() : h.pod(), h.queries(), h.nxdomain(), h.servfail(),
                                    h.unanswered(), h.dropped(), h.searchPathWasted(), h.latencyP95Ms(), h.activeInsights());
                        }
                        table.print(weir.out());
                    });
            return 0;
        }
    }

    @Command(name = "top", mixinStandardHelpOptions = true, description = "The most asked names, the busiest clients, or the names answered NXDOMAIN most.")
    static final class DnsTop implements Callable<Integer> {
        @ParentCommand
        DnsCommand parent;

        @Option(names = "--by", defaultValue = "names", description = "names, clients or nxdomain")
        String by;

        @Option(names = {"-n", "--namespace"})
        String namespace;

        @Option(names = "--since", defaultValue = "15m")
        String since;

        @Option(names = "--limit", defaultValue = "10")
        int limit;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.dnsApi).get("/api/v1/dns/top" + Api.query(mapOf("by", by, "namespace", namespace,
                    "since", since, "limit", Integer.toString(limit)))), dev.weir.api.dns.DnsTop[].class, rows -> {
                        Table table = new Table(by.toUpperCase(), "COUNT");
                        for (dev.weir.api.dns.DnsTop t : rows) {
                            table.row(t.key(), t.count());
                        }
                        table.print(weir.out());
                    });
            return 0;
        }
    }

    @Command(name = "insights", mixinStandardHelpOptions = true, description = "DNS insights with their evidence and fix.")
    static final class DnsInsights implements Callable<Integer> {
        @ParentCommand
        DnsCommand parent;

        @Option(names = {"-n", "--namespace"})
        String namespace;

        @Option(names = "--active", description = "Only those not resolved.")
        boolean active;

        @Option(names = "--since", defaultValue = "24h")
        String since;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.dnsApi).get("/api/v1/dns/insights" + Api.query(mapOf("namespace", namespace,
                    "state", active ? "active" : "all", "since", since))), DnsInsight[].class, insights -> {
                        for (DnsInsight i : insights) {
                            weir.out().printf("%s %s %s/%s%s%n  %s%n", i.updated(), i.kind(), i.namespace(), i.pod(),
                                    i.resolved() ? " (resolved)" : "", i.summary());
                            i.evidence().forEach(e -> weir.out().println("    " + e));
                            weir.out().println("  fix: " + i.suggestedFix());
                        }
                        weir.out().flush();
                    });
            return 0;
        }
    }

    // ---------------------------------------------------------------- alerts

    @Command(name = "alerts", mixinStandardHelpOptions = true, description = "Alerts and silences.",
            subcommands = {AlertsList.class, AlertsSilence.class, AlertsSilences.class, AlertsExpire.class})
    static final class AlertsCommand {
        @ParentCommand
        Weir weir;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Pending and firing alerts.")
    static final class AlertsList implements Callable<Integer> {
        @ParentCommand
        AlertsCommand parent;

        @Option(names = "--state", description = "pending or firing")
        String state;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.alertingApi).get("/api/v1/alerting/alerts" + Api.query(mapOf("state", state))),
                    AlertView[].class, alerts -> {
                Table table = new Table("ALERT", "STATE", "SEVERITY", "VALUE", "LABELS", "SINCE", "SILENCED", "SUMMARY");
                for (AlertView a : alerts) {
                    Map<String, String> labels = new java.util.TreeMap<>(a.labels());
                    labels.remove("alertname");
                    String severity = labels.remove("severity");
                    table.row(a.rule(), a.status(), severity, a.value(), labels, a.startsAt(),
                            a.silencedBy().isEmpty() ? "" : "yes", a.annotations().getOrDefault("summary", ""));
                }
                table.print(weir.out());
            });
            return 0;
        }
    }

    @Command(name = "silence", mixinStandardHelpOptions = true, description = "Silence the alerts matching every matcher, for a while.")
    static final class AlertsSilence implements Callable<Integer> {
        @ParentCommand
        AlertsCommand parent;

        @Parameters(paramLabel = "MATCHER", arity = "1..*", description = "name=value, name!=value, name=~regex, name!~regex")
        List<String> matchers;

        @Option(names = "--duration", defaultValue = "1h")
        String duration;

        @Option(names = "--comment", required = true)
        String comment;

        @Option(names = "--author", defaultValue = "${env:USER:-weir}")
        String author;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            SilenceRequest request = new SilenceRequest(matchers, null, null, duration, author, comment);
            SilenceView silence = Api.read(weir.api(weir.alertingApi).post("/api/v1/alerting/silences", "application/json",
                    Api.JSON.writeValueAsString(request)), SilenceView.class);
            weir.out().println("silence " + silence.id() + " until " + silence.endsAt());
            weir.out().flush();
            return 0;
        }
    }

    @Command(name = "silences", mixinStandardHelpOptions = true, description = "The silences, active and ended.")
    static final class AlertsSilences implements Callable<Integer> {
        @ParentCommand
        AlertsCommand parent;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            weir.show(weir.api(weir.alertingApi).get("/api/v1/alerting/silences"), SilenceView[].class, silences -> {
                Table table = new Table("ID", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT");
                for (SilenceView s : silences) {
                    table.row(s.id(), String.join(",", s.matchers()), s.startsAt(), s.endsAt(), s.createdBy(), s.comment());
                }
                table.print(weir.out());
            });
            return 0;
        }
    }

    @Command(name = "expire", mixinStandardHelpOptions = true, description = "End a silence now: its alerts notify again.")
    static final class AlertsExpire implements Callable<Integer> {
        @ParentCommand
        AlertsCommand parent;

        @Parameters(paramLabel = "SILENCE-ID", description = "The id weir alerts silences lists.")
        String id;

        @Override
        public Integer call() {
            Weir weir = parent.weir;
            if (!id.matches("[A-Za-z0-9-]{1,64}")) {
                throw new Api.Failure(Api.REFUSED, "not a silence id: " + id);
            }
            weir.api(weir.alertingApi).delete("/api/v1/alerting/silences/" + id);
            weir.out().println("expired silence " + id);
            weir.out().flush();
            return 0;
        }
    }

    // ---------------------------------------------------------------- status

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Whether each service answers its health probe.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        Weir weir;

        @Override
        public Integer call() {
            java.net.http.HttpClient http = weir.http();
            Table table = new Table("SERVICE", "URL", "HEALTH");
            int down = 0;
            for (Map.Entry<String, String> service : mapOf("policy", weir.policyApi, "dns", weir.dnsApi, "alerting",
                    weir.alertingApi, "relay", weir.relayApi).entrySet()) {
                String health;
                try {
                    var response = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(service.getValue() + "/actuator/health")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    health = response.statusCode() == 200 ? "UP" : "DOWN (" + response.statusCode() + ")";
                } catch (java.io.IOException e) {
                    health = "UNREACHABLE";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    health = "UNREACHABLE";
                }
                if (!health.equals("UP")) {
                    down++;
                }
                table.row(service.getKey(), service.getValue(), health);
            }
            table.print(weir.out());
            return down == 0 ? 0 : Api.UNAVAILABLE;
        }
    }

    static Map<String, String> mapOf(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }
}
