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
            "egress-named-port", "ip-block-except", "weir-deny-wins-over-allow", "port-sctp-81",
            // Port ranges are a few prefixes in the datapath, whatever their width.
            "end-port-range", "end-port-kubernetes-docs", "end-port-every-udp-port", "end-port-all-but-one",
            "end-port-excludes-its-neighbour");

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

    @Test
    void aCaseThatCannotBeAppliedFailsWithItsReasonAndTheNextOneRuns() throws Exception {
        // 17,000 single ports for one peer: more entries than an endpoint's policy map holds.
        tools.jackson.databind.json.JsonMapper json = tools.jackson.databind.json.JsonMapper.builder().build();
        var suite = (tools.jackson.databind.node.ObjectNode) json.readTree(SUITE.toFile());
        var cases = json.createArrayNode();
        var huge = json.createObjectNode().put("id", "too-many-ports").put("title", "does not fit");
        var ports = json.createArrayNode();
        for (int port = 1000; port < 18000; port++) {
            ports.addObject().put("port", port);
        }
        var policy = huge.putArray("policies").addObject();
        policy.put("apiVersion", "networking.k8s.io/v1").put("kind", "NetworkPolicy");
        policy.putObject("metadata").put("name", "huge").put("namespace", "x");
        var spec = policy.putObject("spec");
        spec.putObject("podSelector").putObject("matchLabels").put("pod", "a");
        spec.putArray("ingress").addObject().set("ports", ports);
        huge.putArray("probes").addObject().put("port", 80).put("protocol", "TCP").putArray("blocked");
        cases.add(huge);
        for (var c : suite.get("cases")) {
            if (c.get("id").asText().equals("default-deny-all")) {
                cases.add(c);
            }
        }
        suite.set("cases", cases);
        Path file = Path.of("target", "too-many-ports.json");
        json.writeValue(file.toFile(), suite);
        List<ConformanceRunner.Result> results = new ArrayList<>();
        try (DatapathConformanceRunner runner = new DatapathConformanceRunner(ConformanceCases.read(file)).start()) {
            for (ConformanceCases.Case c : ConformanceCases.read(file).cases()) {
                results.add(runner.run(c));
            }
        }
        assertThat(results).hasSize(2);
        assertThat(results.get(0).id()).isEqualTo("too-many-ports");
        assertThat(results.get(0).differences()).singleElement().asString()
                .startsWith("not applied to the datapath").contains("x/a needs 17000 policy entries");
        assertThat(results.get(1).differences()).as("the next case, after the refused one").isEmpty();
    }
}
