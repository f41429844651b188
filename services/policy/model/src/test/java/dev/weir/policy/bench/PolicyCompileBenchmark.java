package dev.weir.policy.bench;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.LabelSelector;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.Protocol;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Full compile of N policies over 10,000 endpoints and 1,000 identities (100 namespaces of 100
 * pods, 10 apps each). Each policy selects one app of its namespace and allows ingress from
 * another app of the namespace on one port, and from one app of the next namespace on another;
 * every tenth also isolates egress to its namespace and the cluster DNS. Reports the median of
 * several runs for 1,000 and for 10,000 policies, interleaved.
 *
 * <p>usage: PolicyCompileBenchmark [rounds]
 */
public final class PolicyCompileBenchmark {

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Cluster cluster = cluster();
        List<Policy> all = policies(10_000);
        List<Policy> tenth = all.subList(0, 1_000);
        long[] small = new long[rounds];
        long[] large = new long[rounds];
        Compilation last = null;
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            PolicyCompiler.compile(cluster, tenth, new Identity.LocalAllocator());
            small[r] = System.nanoTime() - start;
            start = System.nanoTime();
            last = PolicyCompiler.compile(cluster, all, new Identity.LocalAllocator());
            large[r] = System.nanoTime() - start;
        }
        Arrays.sort(small);
        Arrays.sort(large);
        long entries = last.endpoints().values().stream().mapToLong(e -> e.entries().size()).sum();
        System.out.printf("cluster: %d endpoints, %d identities; %d map entries for 10,000 policies%n",
                cluster.pods().size(), last.identities().size(), entries);
        System.out.printf("1,000 policies: median %.2f s; 10,000 policies: median %.2f s (of %d rounds); ratio %.1f%n",
                small[rounds / 2] / 1e9, large[rounds / 2] / 1e9, rounds, (double) large[rounds / 2] / small[rounds / 2]);
        incremental(cluster, all, rounds);
    }

    /**
     * One policy changed (its port moves) among 10,000: the incremental compiler against a full
     * compile of the same inputs, alternating, with the same changes.
     */
    static void incremental(Cluster cluster, List<Policy> all, int rounds) {
        Identity.Allocator allocator = new Identity.LocalAllocator();
        dev.weir.policy.model.IncrementalCompiler compiler = new dev.weir.policy.model.IncrementalCompiler(allocator);
        java.util.Map<String, Integer> cookies = new java.util.HashMap<>();
        all.forEach(p -> cookies.put(p.key(), cookies.size() + 1));
        List<Policy> policies = new ArrayList<>(all);
        compiler.compile(cluster, policies, cookies, Map.of());
        int changes = rounds * 4;
        long[] full = new long[changes];
        long[] incremental = new long[changes];
        int recompiled = 0;
        for (int c = 0; c < changes; c++) {
            int i = (c * 997) % policies.size();
            Policy p = policies.get(i);
            Policy.Rule first = p.ingress().get(0);
            Policy.Rule moved = new Policy.Rule(first.peers(),
                    List.of(new Policy.Port(Protocol.TCP, first.ports().get(0).number() + 1, null, null)));
            List<Policy.Rule> ingress = new ArrayList<>(p.ingress());
            ingress.set(0, moved);
            policies.set(i, new Policy(p.kind(), p.namespace(), p.name(), p.podSelector(), p.isolatesIngress(),
                    p.isolatesEgress(), ingress, p.egress(), p.ingressDeny(), p.egressDeny()));
            long start = System.nanoTime();
            dev.weir.policy.model.IncrementalCompiler.Result result = compiler.compile(cluster, policies, cookies, Map.of());
            incremental[c] = System.nanoTime() - start;
            recompiled = result.full() ? cluster.pods().size() : result.recompiled().size();
            start = System.nanoTime();
            PolicyCompiler.compile(cluster, policies, allocator, cookies);
            full[c] = System.nanoTime() - start;
        }
        Arrays.sort(full);
        Arrays.sort(incremental);
        System.out.printf("one policy changed of 10,000 (%d changes): incremental median %.1f ms (%d endpoints "
                + "recompiled), full median %.1f ms; full/incremental %.1f%n", changes, incremental[changes / 2] / 1e6,
                recompiled, full[changes / 2] / 1e6, (double) full[changes / 2] / incremental[changes / 2]);
    }

    static Cluster cluster() {
        Cluster cluster = new Cluster();
        for (int n = 0; n < 100; n++) {
            String ns = "ns-" + n;
            cluster.namespace(ns, Map.of("kubernetes.io/metadata.name", ns, "team", "team-" + (n % 10)));
            for (int p = 0; p < 100; p++) {
                cluster.pod(new Cluster.Pod(ns, "pod-" + p, Map.of("app", "app-" + (p % 10)),
                        "198.18." + n + "." + (p + 10), List.of(new Cluster.ContainerPort("http", 8080, Protocol.TCP)),
                        "node-" + (p % 100), p + 1));
            }
        }
        return cluster;
    }

    static List<Policy> policies(int count) {
        List<Policy> policies = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = i % 100;
            String ns = "ns-" + n;
            LabelSelector app = new LabelSelector(Map.of("app", "app-" + (i / 100 % 10)), List.of());
            LabelSelector peerApp = new LabelSelector(Map.of("app", "app-" + ((i / 100 + 1) % 10)), List.of());
            LabelSelector nextNs = new LabelSelector(Map.of("kubernetes.io/metadata.name", "ns-" + ((n + 1) % 100)), List.of());
            List<Policy.Rule> ingress = List.of(
                    new Policy.Rule(List.of(new Policy.Peer(peerApp, null, null, null)),
                            List.of(new Policy.Port(Protocol.TCP, 8000 + i % 50, null, null))),
                    new Policy.Rule(List.of(new Policy.Peer(peerApp, nextNs, null, null)),
                            List.of(new Policy.Port(Protocol.TCP, null, null, "http"))));
            boolean egress = i % 10 == 0;
            List<Policy.Rule> egressRules = egress ? List.of(
                    new Policy.Rule(List.of(new Policy.Peer(LabelSelector.EVERYTHING, null, null, null)), List.of()),
                    new Policy.Rule(List.of(new Policy.Peer(null, null, new Policy.IpBlock(
                            dev.weir.policy.model.Cidr.parse("198.19.0.10/32"), List.of()), null)),
                            List.of(new Policy.Port(Protocol.UDP, 53, null, null)))) : List.of();
            policies.add(new Policy(Policy.NETWORK_POLICY, ns, "p-" + i, app, true, egress, ingress, egressRules,
                    List.of(), List.of()));
        }
        return policies;
    }
}
