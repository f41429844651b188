package dev.weir.policy.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The compiler against conformance case files: Weir's own suite and the shared example. */
class ConformanceSuiteTest {

    static final Path SUITE = Path.of("src/test/resources/conformance/weir-suite.json");
    static final Path SHARED_EXAMPLE = Path.of("../../../../shared/conformance/example.json");

    @Test
    void weirsOwnSuitePasses() throws Exception {
        ConformanceCases cases = ConformanceCases.read(SUITE);
        assertThat(cases.cases()).hasSizeGreaterThanOrEqualTo(40);
        List<ConformanceRunner.Result> results = ConformanceRunner.run(cases);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int failed = ConformanceRunner.report(results, new PrintStream(out, true, StandardCharsets.UTF_8));
        assertThat(failed).as(out.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).endsWith(results.size() + " passed, 0 failed\n");
    }

    @Test
    void theSharedExamplePasses() throws Exception {
        Assumptions.assumeTrue(Files.exists(SHARED_EXAMPLE), "shared/conformance is beside the checkout");
        assertThat(ConformanceRunner.run(ConformanceCases.read(SHARED_EXAMPLE)))
                .allSatisfy(r -> assertThat(r.differences()).isEmpty());
    }

    @Test
    void aWrongExpectationFailsAndSaysWhichPairsDiffer() throws Exception {
        ConformanceCases cases = ConformanceCases.read(SUITE);
        ConformanceCases.Case original = cases.cases().stream().filter(c -> c.id().equals("default-deny-ingress"))
                .findFirst().orElseThrow();
        ConformanceCases.Probe probe = original.probes().get(0);
        ConformanceCases.Case wrong = new ConformanceCases.Case(original.id(), original.title(), original.policies(), null,
                List.of(new ConformanceCases.Probe(probe.port(), probe.protocol(), Set.of("y/a->z/b"))));
        ConformanceRunner.Result result = ConformanceRunner.run(cases.cluster(), wrong);
        assertThat(result.passed()).isFalse();
        assertThat(result.differences()).anyMatch(d -> d.contains("allowed but expected blocked: y/a->z/b"))
                .anyMatch(d -> d.contains("blocked but expected allowed: ") && d.contains("y/a->x/a"));
    }
}
