package dev.weir.relay;

import dev.weir.proto.observer.v1.FlowFilter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A cheap test on a flow's serialized bytes before it is decoded: a filter on a pod, namespace or
 * workload can only match a flow whose bytes contain that name (protobuf keeps strings as UTF-8 as
 * they are). A query for one pod over millions of flows decodes only the few that mention it.
 * (Node names match with wildcards and ignoring case, so they are no needle.)
 * Never rejects a flow the filters would accept; may accept flows they then reject.
 */
final class FlowPrefilter {

    /** For each whitelist filter, the names one of which a matching flow must contain. */
    private final List<byte[][]> alternatives;

    private FlowPrefilter(List<byte[][]> alternatives) {
        this.alternatives = alternatives;
    }

    static FlowPrefilter of(List<FlowFilter> whitelist) {
        if (whitelist.isEmpty()) {
            return new FlowPrefilter(null);
        }
        List<byte[][]> alternatives = new ArrayList<>();
        for (FlowFilter filter : whitelist) {
            List<String> names = needles(filter);
            if (names == null) {
                return new FlowPrefilter(null); // a filter without a name to look for: decode everything
            }
            alternatives.add(names.stream().map(n -> n.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new));
        }
        return new FlowPrefilter(alternatives);
    }

    /** One field of the filter whose values appear literally in a matching flow, or null. */
    private static List<String> needles(FlowFilter f) {
        for (List<String> pods : List.of(f.getSourcePodList(), f.getDestinationPodList())) {
            if (!pods.isEmpty()) {
                List<String> names = new ArrayList<>();
                for (String pod : pods) {
                    int slash = pod.indexOf('/');
                    String name = slash < 0 ? pod : (slash == pod.length() - 1 ? pod.substring(0, slash) : pod.substring(slash + 1));
                    if (name.isEmpty()) {
                        return null;
                    }
                    names.add(name);
                }
                return names;
            }
        }
        for (List<String> values : List.of(f.getSourceNamespaceList(), f.getDestinationNamespaceList(),
                f.getSourceWorkloadList(), f.getDestinationWorkloadList())) {
            if (!values.isEmpty() && values.stream().noneMatch(String::isEmpty)) {
                return values;
            }
        }
        return null;
    }

    boolean mayMatch(byte[] flow) {
        if (alternatives == null) {
            return true;
        }
        for (byte[][] names : alternatives) {
            for (byte[] name : names) {
                if (contains(flow, name)) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        int last = haystack.length - needle.length;
        byte first = needle[0];
        outer:
        for (int i = 0; i <= last; i++) {
            if (haystack[i] != first) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
