package dev.weir.agent.endpoint;

import dev.weir.proto.state.v1.Pod;
import java.util.List;
import java.util.Map;

/**
 * A pod of this node as the agent knows it: its addresses from the runtime's attachment, its
 * labels, named ports and workload from the cluster's description (empty until that arrives).
 */
public record PodSpec(String namespace, String pod, List<String> ips, Map<String, String> labels,
        List<NamedPort> namedPorts, String workloadName, String workloadKind) {

    public record NamedPort(String name, int port, int protocol) {
    }

    public PodSpec {
        ips = List.copyOf(ips);
        labels = Map.copyOf(labels);
        namedPorts = List.copyOf(namedPorts);
        workloadName = workloadName == null ? "" : workloadName;
        workloadKind = workloadKind == null ? "" : workloadKind;
    }

    /** The spec of an attached pod: its addresses, and what the cluster says of it if it has said. */
    public static PodSpec of(Attachment attachment, Pod described) {
        List<String> ips = attachment.ipv4() != null && attachment.ipv6() != null
                ? List.of(attachment.ipv4(), attachment.ipv6()) : List.of(attachment.primaryIp());
        if (described == null) {
            return new PodSpec(attachment.namespace(), attachment.pod(), ips, Map.of(), List.of(), "", "");
        }
        List<NamedPort> ports = described.getNamedPortsList().stream()
                .map(p -> new NamedPort(p.getName(), p.getPort(), p.getProtocolValue())).toList();
        return new PodSpec(attachment.namespace(), attachment.pod(), ips, described.getLabelsMap(), ports,
                described.getWorkloadName(), described.getWorkloadKind());
    }

    /** The address the pod is known by first. */
    public String ip() {
        return ips.get(0);
    }

    public String key() {
        return namespace + "/" + pod;
    }
}
