package dev.weir.policy.conformance;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyParser;
import dev.weir.policy.model.Protocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A conformance case file (shared/design/CONFORMANCE.md): the model and its cases. */
public record ConformanceCases(Cluster cluster, List<Case> cases) {

    /** A case; policies is null when they did not parse, and problem says why. */
    public record Case(String id, String title, List<Policy> policies, String problem, List<Probe> probes) {
    }

    public record Probe(int port, Protocol protocol, Set<String> blocked) {
    }

    public static ConformanceCases read(Path file) throws IOException {
        JsonNode root = JsonMapper.builder().build().readTree(Files.readString(file));
        Cluster cluster = new Cluster();
        JsonNode model = root.get("model");
        for (Map.Entry<String, JsonNode> ns : model.get("namespaces").properties()) {
            cluster.namespace(ns.getKey(), strings(ns.getValue().get("labels")));
        }
        for (Map.Entry<String, JsonNode> p : model.get("pods").properties()) {
            String[] name = p.getKey().split("/", 2);
            List<Cluster.ContainerPort> ports = new ArrayList<>();
            JsonNode list = p.getValue().get("containerPorts");
            for (int i = 0; list != null && i < list.size(); i++) {
                JsonNode port = list.get(i);
                ports.add(new Cluster.ContainerPort(port.path("name").asString(""), port.get("port").asInt(),
                        Protocol.valueOf(port.path("protocol").asString("TCP"))));
            }
            cluster.pod(new Cluster.Pod(name[0], name[1], strings(p.getValue().get("labels")),
                    p.getValue().get("ip").asString(), ports, "", 0));
        }
        List<Case> cases = new ArrayList<>();
        JsonNode list = root.get("cases");
        for (int c = 0; c < list.size(); c++) {
            JsonNode node = list.get(c);
            List<Policy> policies = new ArrayList<>();
            String problem = null;
            JsonNode policyList = node.get("policies");
            try {
                for (int i = 0; policyList != null && i < policyList.size(); i++) {
                    policies.add(PolicyParser.policy(policyList.get(i), "policies[" + i + "]."));
                }
            } catch (PolicyParser.InvalidPolicy e) {
                policies = null;
                problem = e.getMessage();
            }
            List<Probe> probes = new ArrayList<>();
            JsonNode probeList = node.get("probes");
            for (int i = 0; probeList != null && i < probeList.size(); i++) {
                JsonNode probe = probeList.get(i);
                Set<String> blocked = new LinkedHashSet<>();
                probe.path("blocked").forEach(b -> blocked.add(b.asString()));
                probes.add(new Probe(probe.get("port").asInt(), Protocol.valueOf(probe.path("protocol").asString("TCP")),
                        blocked));
            }
            cases.add(new Case(node.path("id").asString("case-" + c), node.path("title").asString(""), policies, problem,
                    probes));
        }
        return new ConformanceCases(cluster, cases);
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        if (node != null) {
            node.properties().forEach(e -> map.put(e.getKey(), e.getValue().asString()));
        }
        return map;
    }
}
