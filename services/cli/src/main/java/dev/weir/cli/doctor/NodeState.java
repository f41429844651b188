package dev.weir.cli.doctor;

import java.util.List;
import java.util.Map;

/**
 * What a node's datapath looks like from the outside: the BPF filesystem, what is pinned under
 * the agent's pin root, the endpoints map (host-side interface index to endpoint id), the tc
 * programs attached per interface, the maps' fill, and the interfaces that exist.
 */
public record NodeState(boolean bpffsMounted, boolean pinRootExists, List<String> pinned,
        Map<Integer, Integer> endpoints, List<Attachment> attachments, List<MapFill> maps,
        Map<Integer, String> interfaces) {

    /** A tc program on an interface: kind is e.g. "clsact/ingress", name the program's (truncated) name. */
    public record Attachment(int ifindex, String device, String kind, String program) {

        boolean isWeir() {
            return program.startsWith("weir_");
        }
    }

    /** A map's entries against its capacity. */
    public record MapFill(String name, long entries, long maxEntries) {

        double ratio() {
            return maxEntries == 0 ? 0 : (double) entries / maxEntries;
        }
    }
}
