package dev.weir.policy.conformance;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.Verdicts;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs a conformance case file: compiles each case's policies for the model's pods, decides every
 * probe with the datapath's own lookup rules on the compiled entries, and prints PASS or FAIL per
 * case (with the pairs that differ) and a last line "N passed, M failed".
 *
 * <p>usage: ConformanceRunner FILE — exits 1 when a case fails, 2 when the file cannot be read.
 */
public final class ConformanceRunner {

    /** The outcome of one case: empty differences when it passed. */
    public record Result(String id, List<String> differences) {
        public boolean passed() {
            return differences.isEmpty();
        }
    }

    private ConformanceRunner() {
    }

    public static List<Result> run(ConformanceCases file) {
        List<Result> results = new ArrayList<>();
        for (ConformanceCases.Case c : file.cases()) {
            results.add(run(file.cluster(), c));
        }
        return results;
    }

    public static Result run(Cluster cluster, ConformanceCases.Case c) {
        if (c.policies() == null) {
            return new Result(c.id(), List.of("policies rejected: " + c.problem()));
        }
        Compilation compiled = PolicyCompiler.compile(cluster, c.policies(), new Identity.LocalAllocator());
        List<String> differences = new ArrayList<>();
        for (ConformanceCases.Probe probe : c.probes()) {
            Set<String> blocked = new LinkedHashSet<>();
            for (Cluster.Pod source : cluster.pods()) {
                for (Cluster.Pod destination : cluster.pods()) {
                    if (source == destination) {
                        continue;
                    }
                    boolean allowed = Verdicts.decide(compiled, source.key(), source.ip(), destination.key(),
                            destination.ip(), probe.port(), probe.protocol()).allowed();
                    if (!allowed) {
                        blocked.add(source.key() + "->" + destination.key());
                    }
                }
            }
            differences.addAll(differences(probe, blocked));
        }
        return new Result(c.id(), differences);
    }

    /** How the pairs a probe found blocked differ from the ones it expected blocked. */
    public static List<String> differences(ConformanceCases.Probe probe, Set<String> blocked) {
        List<String> differences = new ArrayList<>();
        Set<String> wronglyBlocked = new TreeSet<>(blocked);
        wronglyBlocked.removeAll(probe.blocked());
        Set<String> wronglyAllowed = new TreeSet<>(probe.blocked());
        wronglyAllowed.removeAll(blocked);
        String where = probe.port() + "/" + probe.protocol();
        if (!wronglyBlocked.isEmpty()) {
            differences.add(where + " blocked but expected allowed: " + String.join(" ", wronglyBlocked));
        }
        if (!wronglyAllowed.isEmpty()) {
            differences.add(where + " allowed but expected blocked: " + String.join(" ", wronglyAllowed));
        }
        return differences;
    }

    /** Prints the report; returns how many cases failed. */
    public static int report(List<Result> results, PrintStream out) {
        int failed = 0;
        for (Result result : results) {
            if (result.passed()) {
                out.println("PASS " + result.id());
            } else {
                failed++;
                out.println("FAIL " + result.id());
                result.differences().forEach(d -> out.println("  " + d));
            }
        }
        out.println((results.size() - failed) + " passed, " + failed + " failed");
        return failed;
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: weir policy conformance FILE");
            System.exit(2);
        }
        ConformanceCases file;
        try {
            file = ConformanceCases.read(Path.of(args[0]));
        } catch (Exception e) {
            System.err.println("weir: cannot read " + args[0] + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(report(run(file), System.out) == 0 ? 0 : 1);
    }
}
