package dev.weir.agent.endpoint;

import java.util.List;
import java.util.Map;

/**
 * A pod this node should host: what the kubelet's pod spec says, reduced to what Weir needs.
 *
 * @param resolvConf the pod's resolver configuration (its dnsConfig), or null for none
 */
public record PodSpec(String namespace, String pod, String ip, Map<String, String> labels,
        List<NamedPort> namedPorts, String workloadName, String workloadKind, String resolvConf) {

    public record NamedPort(String name, int port, int protocol) {
    }

    public PodSpec {
        labels = Map.copyOf(labels);
        namedPorts = List.copyOf(namedPorts);
    }

    public String key() {
        return namespace + "/" + pod;
    }
}
