package dev.weir.cli.doctor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The node's datapath judged the way operators wish CNI plugins did: is the BPF filesystem there,
 * is every endpoint's interface carrying both programs, is anything left behind (programs on
 * interfaces that are no endpoint, endpoints whose interface is gone, pins nobody owns), and are
 * the maps filling up. Pure: {@link Bpftool} gathers the state.
 */
public final class NodeChecks {

    /** What the datapath pins under its root; anything else there is a leftover. */
    static final Set<String> PINNED = Set.of("weir_ipcache", "weir_endpoints", "weir_policy", "weir_ct", "weir_events",
            "weir_metrics", "weir_health", "weir_resolvers", "weir_fragments", "weir_ipcache_generation");
    /**
     * Maps that refuse new entries when full. Conntrack and policy are maps of per-endpoint maps
     * (their fill is each endpoint's; the agent's weir_policy_map_pressure and
     * weir_conntrack_insert_failed_total say it), the fragments an LRU where full is normal.
     */
    static final Set<String> PRESSURE_CHECKED = Set.of("weir_ipcache", "weir_endpoints", "weir_policy");
    static final double PRESSURE_WARN = 0.8;
    static final double PRESSURE_FAIL = 0.95;

    private NodeChecks() {
    }

    public static List<Finding> judge(NodeState node, String pinRoot) {
        List<Finding> findings = new ArrayList<>();
        if (!node.bpffsMounted()) {
            findings.add(Finding.fail("bpf filesystem", "/sys/fs/bpf is not a BPF filesystem: pinned maps do not "
                    + "outlive the agent, so a restart drops enforcement",
                    "mount -t bpf bpf /sys/fs/bpf (and add it to /etc/fstab or the node's systemd mounts)"));
            return findings;
        }
        findings.add(Finding.ok("bpf filesystem", "mounted at /sys/fs/bpf"));
        if (!node.pinRootExists()) {
            findings.add(Finding.fail("datapath", "nothing is pinned at " + pinRoot + ": the agent has not loaded the "
                    + "datapath on this node", "start the agent (kubectl -n weir-system get pods -l app.kubernetes.io/"
                    + "component=agent -o wide), or pass --pin-root if it pins elsewhere"));
            return findings;
        }
        attachments(node, findings);
        leftovers(node, pinRoot, findings);
        pressure(node, findings);
        return findings;
    }

    private static void attachments(NodeState node, List<Finding> findings) {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<Integer, Integer> e : node.endpoints().entrySet()) {
            int ifindex = e.getKey();
            String device = node.interfaces().get(ifindex);
            if (device == null) {
                continue; // reported as stale below
            }
            boolean ingress = node.attachments().stream()
                    .anyMatch(a -> a.ifindex() == ifindex && a.isWeir() && a.kind().endsWith("ingress"));
            boolean egress = node.attachments().stream()
                    .anyMatch(a -> a.ifindex() == ifindex && a.isWeir() && a.kind().endsWith("egress"));
            if (!ingress || !egress) {
                missing.add(device + " (endpoint " + e.getValue() + ", missing " + (!ingress && !egress ? "both programs"
                        : !ingress ? "the ingress program" : "the egress program") + ")");
            }
        }
        if (missing.isEmpty()) {
            findings.add(Finding.ok("programs attached", "both programs on all " + node.endpoints().size()
                    + " endpoint interface(s)"));
        } else {
            findings.add(Finding.fail("programs attached", "endpoints without their datapath (their traffic is neither "
                    + "enforced nor seen): " + String.join(", ", missing),
                    "restart the agent on this node: it re-attaches every endpoint it knows (tc filter show dev <if> "
                    + "ingress shows what is there)"));
        }
    }

    private static void leftovers(NodeState node, String pinRoot, List<Finding> findings) {
        List<String> problems = new ArrayList<>();
        Set<String> strayPrograms = new TreeSet<>();
        for (NodeState.Attachment a : node.attachments()) {
            if (a.isWeir() && !node.endpoints().containsKey(a.ifindex())) {
                strayPrograms.add(a.device());
            }
        }
        if (!strayPrograms.isEmpty()) {
            problems.add("Weir programs on interfaces that are no endpoint: " + String.join(", ", strayPrograms)
                    + " (tc qdisc del dev <if> clsact)");
        }
        List<String> stale = new ArrayList<>();
        node.endpoints().forEach((ifindex, id) -> {
            if (!node.interfaces().containsKey(ifindex)) {
                stale.add("ifindex " + ifindex + " (endpoint " + id + ")");
            }
        });
        if (!stale.isEmpty()) {
            problems.add("endpoints whose interface is gone: " + String.join(", ", stale)
                    + " (the agent removes them when it learns the pod is deleted; restart it if they stay)");
        }
        List<String> foreign = node.pinned().stream().filter(p -> !PINNED.contains(p)).sorted().toList();
        if (!foreign.isEmpty()) {
            problems.add("pins under " + pinRoot + " the datapath does not own: " + String.join(", ", foreign)
                    + " (rm " + pinRoot + "/<name> once nothing uses them)");
        }
        if (problems.isEmpty()) {
            findings.add(Finding.ok("leftovers", "no stray programs, stale endpoints or unknown pins"));
        } else {
            findings.add(Finding.warn("leftovers", String.join("; ", problems),
                    "clean up as given for each; leftovers waste memory and confuse debugging"));
        }
    }

    private static void pressure(NodeState node, List<Finding> findings) {
        for (NodeState.MapFill map : node.maps()) {
            if (!PRESSURE_CHECKED.contains(map.name())) {
                continue;
            }
            String fill = String.format("%s holds %d of %d entries (%.0f%%)", map.name(), map.entries(),
                    map.maxEntries(), map.ratio() * 100);
            if (map.ratio() >= PRESSURE_FAIL) {
                findings.add(Finding.fail("map pressure", fill + ": new entries are being refused",
                        "raise the agent's map size (agent.policyMapEntries in the chart) and restart the agent"));
            } else if (map.ratio() >= PRESSURE_WARN) {
                findings.add(Finding.warn("map pressure", fill, "raise the map size before it fills "
                        + "(agent.policyMapEntries in the chart)"));
            } else {
                findings.add(Finding.ok("map pressure", fill));
            }
        }
    }
}
