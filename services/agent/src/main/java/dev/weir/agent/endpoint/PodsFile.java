package dev.weir.agent.endpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The pods a node hosts where no kubelet says so (the embedded platform, tests), as YAML:
 * <pre>
 * pods:
 *   - namespace: shop
 *     name: cart
 *     ip: 198.18.1.11
 *     labels: {app: cart}
 *     workload: {name: cart, kind: Deployment}
 *     ports: [{name: http, port: 8080, protocol: TCP}]
 *     resolvConf: |
 *       nameserver 198.18.0.53
 * </pre>
 * A malformed entry is an error naming its field.
 */
public final class PodsFile {

    private PodsFile() {
    }

    public static List<PodSpec> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    public static List<PodSpec> parse(InputStream yaml, String label) {
        Object root = new Load(LoadSettings.builder().setLabel(label).build()).loadFromInputStream(yaml);
        if (!(root instanceof Map<?, ?> map) || !(map.get("pods") instanceof List<?> pods)) {
            throw new IllegalArgumentException(label + ": expected a map with a list under 'pods'");
        }
        List<PodSpec> specs = new ArrayList<>();
        for (int i = 0; i < pods.size(); i++) {
            String at = "pods[" + i + "]";
            if (!(pods.get(i) instanceof Map<?, ?> pod)) {
                throw new IllegalArgumentException(at + ": must be a map");
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (pod.get("labels") instanceof Map<?, ?> l) {
                l.forEach((k, v) -> labels.put(String.valueOf(k), String.valueOf(v)));
            }
            List<PodSpec.NamedPort> ports = new ArrayList<>();
            if (pod.get("ports") instanceof List<?> list) {
                for (int p = 0; p < list.size(); p++) {
                    if (!(list.get(p) instanceof Map<?, ?> port) || !(port.get("port") instanceof Number number)) {
                        throw new IllegalArgumentException(at + ".ports[" + p + "].port: a number is required");
                    }
                    Object declared = port.get("protocol");
                    String protocol = declared == null ? "TCP" : String.valueOf(declared);
                    int code = switch (protocol) {
                        case "TCP" -> 6;
                        case "UDP" -> 17;
                        case "SCTP" -> 132;
                        default -> throw new IllegalArgumentException(at + ".ports[" + p + "].protocol: " + protocol
                                + " is not TCP, UDP or SCTP");
                    };
                    ports.add(new PodSpec.NamedPort(String.valueOf(port.get("name")), number.intValue(), code));
                }
            }
            String workloadName = null;
            String workloadKind = null;
            if (pod.get("workload") instanceof Map<?, ?> w) {
                workloadName = String.valueOf(w.get("name"));
                workloadKind = String.valueOf(w.get("kind"));
            }
            Object resolv = pod.get("resolvConf");
            specs.add(new PodSpec(text(pod, at, "namespace"), text(pod, at, "name"), text(pod, at, "ip"), labels, ports,
                    workloadName, workloadKind, resolv == null ? null : String.valueOf(resolv)));
        }
        return specs;
    }

    private static String text(Map<?, ?> map, String at, String field) {
        Object value = map.get(field);
        if (value == null || String.valueOf(value).isBlank()) {
            throw new IllegalArgumentException(at + "." + field + ": is required");
        }
        return String.valueOf(value);
    }
}
