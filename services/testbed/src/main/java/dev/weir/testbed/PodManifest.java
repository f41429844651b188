package dev.weir.testbed;

import java.util.List;
import java.util.Map;

/**
 * A pod as the testbed makes it: what a pod spec and the cluster's IPAM would say of it.
 *
 * @param resolvConf the pod's /etc/resolv.conf (its dnsConfig), or null for none
 */
public record PodManifest(String namespace, String pod, String ip, Map<String, String> labels,
        List<NamedPort> namedPorts, String workloadName, String workloadKind, String resolvConf) {

    /** @param protocol the IP protocol number (6 TCP, 17 UDP, 132 SCTP) */
    public record NamedPort(String name, int port, int protocol) {
    }

    public PodManifest {
        labels = Map.copyOf(labels);
        namedPorts = List.copyOf(namedPorts);
    }

    /** A pod labelled app=NAME, run by a Deployment of its name, with no named ports. */
    public static PodManifest of(String namespace, String pod, String ip) {
        return new PodManifest(namespace, pod, ip, Map.of("app", pod), List.of(), pod, "Deployment", null);
    }

    public PodManifest withLabels(Map<String, String> newLabels) {
        return new PodManifest(namespace, pod, ip, newLabels, namedPorts, workloadName, workloadKind, resolvConf);
    }

    public PodManifest withResolvConf(String text) {
        return new PodManifest(namespace, pod, ip, labels, namedPorts, workloadName, workloadKind, text);
    }

    public String key() {
        return namespace + "/" + pod;
    }
}
