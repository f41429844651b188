package dev.weir.policy.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The namespaces and pods the compiler compiles for. */
public final class Cluster {

    public record Namespace(String name, Map<String, String> labels) {
        public Namespace {
            labels = Map.copyOf(labels);
        }
    }

    public record ContainerPort(String name, int port, Protocol protocol) {
    }

    /**
     * A pod, and where its datapath endpoint is.
     *
     * @param node       the node hosting it; empty where unknown (conformance models)
     * @param endpointId its datapath endpoint id on that node; 0 where unknown
     */
    public record Pod(String namespace, String name, Map<String, String> labels, String ip, List<ContainerPort> ports,
            String node, int endpointId) {
        public Pod {
            labels = Map.copyOf(labels);
            ports = List.copyOf(ports);
        }

        public String key() {
            return namespace + "/" + name;
        }
    }

    private final Map<String, Namespace> namespaces = new LinkedHashMap<>();
    private final List<Pod> pods = new ArrayList<>();
    private final Map<String, List<String>> nodes = new LinkedHashMap<>();
    private List<String> apiServer = List.of();

    /** A node and its addresses: the remote-node entity (and, to its own agent, the host entity). */
    public Cluster node(String name, List<String> addresses) {
        nodes.put(name, List.copyOf(addresses));
        return this;
    }

    /** The API server's addresses: the kube-apiserver entity. */
    public Cluster apiServer(List<String> addresses) {
        apiServer = List.copyOf(addresses);
        return this;
    }

    public Map<String, List<String>> nodes() {
        return nodes;
    }

    public List<String> apiServer() {
        return apiServer;
    }

    public Cluster namespace(String name, Map<String, String> labels) {
        namespaces.put(name, new Namespace(name, labels));
        return this;
    }

    public Cluster pod(Pod pod) {
        namespaces.computeIfAbsent(pod.namespace(), n -> new Namespace(n, Map.of("kubernetes.io/metadata.name", n)));
        pods.add(pod);
        return this;
    }

    public Map<String, Namespace> namespaces() {
        return namespaces;
    }

    public List<Pod> pods() {
        return pods;
    }

    public Map<String, String> namespaceLabels(String namespace) {
        Namespace ns = namespaces.get(namespace);
        return ns == null ? Map.of() : ns.labels();
    }
}
