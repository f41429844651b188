package dev.weir.agent.endpoint;

import dev.weir.proto.state.v1.Pod;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * What the cluster says about this node's pods (labels, named ports, workload), from the pods
 * topic. The agent never watches the API server itself: one watcher publishes, every agent reads.
 * Pods the scheduler put on other nodes are not kept.
 */
public final class NodePods {

    private final String node;
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();
    private volatile BiConsumer<String, Pod> listener = (key, pod) -> { };

    public NodePods(String node) {
        this.node = node;
    }

    /** Told of every change to a pod of this node: the key and the pod, or null when it is gone. */
    public void listen(BiConsumer<String, Pod> listener) {
        this.listener = listener;
    }

    /** A record of the pods topic; a null pod (tombstone) removes the key. */
    public void accept(String key, Pod pod) {
        Pod previous;
        if (pod == null || !node.equals(pod.getNodeName())) {
            previous = pods.remove(key);
            if (previous == null) {
                return;
            }
            pod = null;
        } else {
            previous = pods.put(key, pod);
            if (pod.equals(previous)) {
                return;
            }
        }
        listener.accept(key, pod);
    }

    public Optional<Pod> get(String namespace, String name) {
        return Optional.ofNullable(pods.get(namespace + "/" + name));
    }

    public int size() {
        return pods.size();
    }
}
