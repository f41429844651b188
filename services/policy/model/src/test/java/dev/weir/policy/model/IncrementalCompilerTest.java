package dev.weir.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Incremental compiles must equal full compiles of the same inputs: random changes (pods added,
 * removed, relabelled; policies applied, changed, deleted; DNS answers) and a comparison after
 * each one. The seed is printed on failure so a run can be repeated.
 */
class IncrementalCompilerTest {

    private static final String[] NAMESPACES = {"shop", "db", "ops"};
    private static final String[] APPS = {"web", "api", "pg", "cron"};
    private static final String[] TEMPLATES = {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          podSelector: {matchLabels: {app: %3$s}}
          ingress: [{from: [{podSelector: {matchLabels: {app: %4$s}}}], ports: [{port: http}]}]
        """,
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          podSelector: {matchLabels: {app: %3$s}}
          policyTypes: [Egress]
          egress:
            - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: db}}, podSelector: {matchLabels: {app: %4$s}}}]
              ports: [{port: http}, {port: 5432}]
        """,
        """
        apiVersion: weir.dev/v1
        kind: WeirNetworkPolicy
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          podSelector: {}
          ingressDeny: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}, podSelector: {matchLabels: {app: %4$s}}}]}]
        """,
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          podSelector: {matchLabels: {app: %3$s}}
          egress: [{to: [{ipBlock: {cidr: 198.18.0.0/16, except: [198.18.2.0/24]}}]}]
        """,
        """
        apiVersion: weir.dev/v1
        kind: WeirNetworkPolicy
        metadata: {name: %1$s, namespace: %2$s}
        spec:
          podSelector: {matchLabels: {app: %3$s}}
          egress: [{toFQDNs: [{matchPattern: "*.example.com"}]}, {toEntities: [cluster]}]
        """,
    };

    @Test
    void everyIncrementalCompileEqualsAFullCompile() {
        for (long seed = 1; seed <= 20; seed++) {
            run(seed, 120);
        }
    }

    @Test
    void aPolicyChangeRecompilesOnlyThePodsItSelects() {
        Identity.Allocator allocator = new Identity.LocalAllocator();
        IncrementalCompiler compiler = new IncrementalCompiler(allocator);
        Cluster cluster = new Cluster();
        for (int i = 0; i < 20; i++) {
            cluster.pod(new Cluster.Pod("shop", "web-" + i, Map.of("app", i < 5 ? "web" : "api"), "198.18.1." + (i + 1),
                    List.of(), "", 0));
        }
        Map<String, Integer> cookies = Map.of("NetworkPolicy/shop/p", 1);
        String policy = TEMPLATES[0].formatted("p", "shop", "web", "api");
        assertThat(compiler.compile(cluster, PolicyParser.parse(policy), cookies, Map.of()).full()).isTrue();
        IncrementalCompiler.Result changed = compiler.compile(cluster,
                PolicyParser.parse(TEMPLATES[0].formatted("p", "shop", "web", "web")), cookies, Map.of());
        assertThat(changed.full()).isFalse();
        assertThat(changed.recompiled()).hasSize(5).allMatch(k -> Integer.parseInt(k.substring(k.indexOf('-') + 1)) < 5);
    }

    private void run(long seed, int steps) {
        Random random = new Random(seed);
        Identity.Allocator allocator = new Identity.LocalAllocator();
        IncrementalCompiler incremental = new IncrementalCompiler(allocator);
        Map<String, Cluster.Pod> pods = new LinkedHashMap<>();
        Map<String, String> policies = new LinkedHashMap<>();
        Map<String, Integer> cookies = new HashMap<>();
        Map<String, Set<String>> dns = new HashMap<>();
        int incrementalSteps = 0;
        for (int step = 0; step < steps; step++) {
            change(random, pods, policies, dns);
            Cluster cluster = new Cluster();
            pods.values().forEach(cluster::pod);
            List<Policy> parsed = new ArrayList<>();
            policies.values().forEach(doc -> parsed.addAll(PolicyParser.parse(doc)));
            parsed.forEach(p -> cookies.computeIfAbsent(p.key(), k -> cookies.size() + 1));
            IncrementalCompiler.Result result = incremental.compile(cluster, parsed, cookies, dns);
            Compilation full = PolicyCompiler.compile(cluster, parsed, allocator, cookies, dns);
            String where = "seed " + seed + ", step " + step;
            assertThat(result.compilation().endpoints()).as(where).isEqualTo(full.endpoints());
            assertThat(result.compilation().ipcache()).as(where).isEqualTo(full.ipcache());
            assertThat(result.compilation().identities().keySet()).as(where).isEqualTo(full.identities().keySet());
            if (!result.full()) {
                incrementalSteps++;
            }
        }
        assertThat(incrementalSteps).as("seed " + seed + ": some changes compiled incrementally").isPositive();
    }

    private static void change(Random random, Map<String, Cluster.Pod> pods, Map<String, String> policies,
            Map<String, Set<String>> dns) {
        int what = random.nextInt(10);
        String namespace = NAMESPACES[random.nextInt(NAMESPACES.length)];
        if (what < 4 || pods.isEmpty()) {
            int n = random.nextInt(30);
            String app = APPS[random.nextInt(APPS.length)];
            List<Cluster.ContainerPort> ports = random.nextBoolean() ? List.of()
                    : List.of(new Cluster.ContainerPort("http", random.nextBoolean() ? 8080 : 80, Protocol.TCP));
            Cluster.Pod pod = new Cluster.Pod(namespace, "pod-" + n, Map.of("app", app), "198.18." + random.nextInt(4) + "."
                    + (n + 1), ports, "", 0);
            pods.remove(pod.key());
            pods.put(pod.key(), pod);
        } else if (what < 5) {
            pods.remove(new ArrayList<>(pods.keySet()).get(random.nextInt(pods.size())));
        } else if (what < 8) {
            String name = "p" + random.nextInt(8);
            String template = TEMPLATES[random.nextInt(TEMPLATES.length)];
            policies.put(namespace + "/" + name, template.formatted(name, namespace, APPS[random.nextInt(APPS.length)],
                    APPS[random.nextInt(APPS.length)]));
        } else if (what < 9 && !policies.isEmpty()) {
            policies.remove(new ArrayList<>(policies.keySet()).get(random.nextInt(policies.size())));
        } else {
            dns.put("svc" + random.nextInt(3) + ".example.com.", Set.of("203.0.113." + random.nextInt(5),
                    "198.18.1." + (random.nextInt(30) + 1)));
        }
    }
}
