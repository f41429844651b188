package dev.weir.policy.conformance.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.policy.conformance.ConformanceCases;
import dev.weir.policy.conformance.ConformanceRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A subset of Weir's conformance suite through real namespaces and the real BPF programs (root):
 * one case for each kind of rule (isolation in both directions, peers combined in one peer,
 * named ports both ways, ipBlock with except, deny rules, SCTP). The whole suite runs on the
 * model in ConformanceSuiteTest; `./weir policy conformance FILE --datapath` runs any file here.
 */
class DatapathConformanceIT {

    static final Path SUITE = Path.of("../model/src/test/resources/conformance/weir-suite.json");
    static final Set<String> SUBSET = Set.of("default-deny-all", "namespace-and-pod-in-one-peer", "named-port-ingress",
            "egress-named-port", "ip-block-except", "weir-deny-wins-over-allow", "port-sctp-81");

    @Test
    void theSubsetPassesOnTheDatapath() throws Exception {
        ConformanceCases cases = ConformanceCases.read(SUITE);
        List<ConformanceRunner.Result> results = new ArrayList<>();
        try (DatapathConformanceRunner runner = new DatapathConformanceRunner(cases).start()) {
            for (ConformanceCases.Case c : cases.cases()) {
                if (SUBSET.contains(c.id())) {
                    results.add(runner.run(c));
                }
            }
        }
        assertThat(results).hasSize(SUBSET.size());
        assertThat(results).allSatisfy(r -> assertThat(r.differences()).as(r.id()).isEmpty());
    }
}
