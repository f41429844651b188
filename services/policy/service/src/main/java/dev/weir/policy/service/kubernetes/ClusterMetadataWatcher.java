package dev.weir.policy.service.kubernetes;

import com.google.protobuf.Message;
import dev.weir.proto.state.v1.ApiServerEndpoints;
import dev.weir.proto.state.v1.NamedPort;
import dev.weir.proto.state.v1.Namespace;
import dev.weir.proto.state.v1.Node;
import dev.weir.proto.state.v1.Pod;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's one watch: Pods, Namespaces, Nodes and the API server's EndpointSlices, as the
 * API server serves them, published on compacted topics (pods with labels, addresses, named
 * ports, workload and node; namespaces with labels; nodes with addresses; the API server's
 * addresses). Agents read their node's pods from Kafka and never watch the API server: a
 * thousand agents starting cost it this one watch per kind, not a thousand.
 *
 * <p>Only what changed is sent (an informer's resync and a status change that touches none of
 * these fields send nothing); a send Kafka refuses is counted and sent again at the next resync
 * (every {@link #RESYNC}), tombstones included.
 */
public final class ClusterMetadataWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterMetadataWatcher.class);
    static final String API_SERVER_KEY = "kubernetes";
    /** How often the informers hand every object again: what Kafka refused is sent then. */
    static final long RESYNC = java.time.Duration.ofMinutes(5).toMillis();

    private final KubernetesClient client;
    private final Producer<String, byte[]> producer;
    private final TopicCatalogue catalogue;
    private final Map<String, Message> published = new ConcurrentHashMap<>();
    private final Map<String, List<String>> apiServerSlices = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong sendErrors = new AtomicLong();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    /** Deletions Kafka refused (topic|key): no resync hands a deleted object again, so they are kept here. */
    private final Map<String, TopicId> refusedTombstones = new ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService retries =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "weir-metadata-retry");
                t.setDaemon(true);
                return t;
            });

    /** @param producer the watcher's own: it closes it */
    public ClusterMetadataWatcher(KubernetesClient client, Producer<String, byte[]> producer, TopicCatalogue catalogue) {
        this.client = client;
        this.producer = producer;
        this.catalogue = catalogue;
    }

    public ClusterMetadataWatcher start() {
        informers.add(client.pods().inAnyNamespace().inform(handler(TopicId.PODS, ClusterMetadataWatcher::describe,
                p -> p.getMetadata().getNamespace() + "/" + p.getMetadata().getName()), RESYNC));
        informers.add(client.namespaces().inform(handler(TopicId.NAMESPACES, ClusterMetadataWatcher::describe,
                n -> n.getMetadata().getName()), RESYNC));
        informers.add(client.nodes().inform(handler(TopicId.NODES, ClusterMetadataWatcher::describe,
                n -> n.getMetadata().getName()), RESYNC));
        informers.add(client.discovery().v1().endpointSlices().inNamespace("default")
                .withLabel("kubernetes.io/service-name", "kubernetes").inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(EndpointSlice slice) {
                        apiServerSlice(slice, false);
                    }

                    @Override
                    public void onUpdate(EndpointSlice before, EndpointSlice after) {
                        apiServerSlice(after, false);
                    }

                    @Override
                    public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {
                        apiServerSlice(slice, true);
                    }
                }, RESYNC));
        retries.scheduleWithFixedDelay(this::retryTombstones, RESYNC, RESYNC, java.util.concurrent.TimeUnit.MILLISECONDS);
        return this;
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler(TopicId topic, Function<T, Message> describe,
            Function<T, String> key) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T resource) {
                send(topic, key.apply(resource), describe.apply(resource));
            }

            @Override
            public void onUpdate(T before, T after) {
                send(topic, key.apply(after), describe.apply(after));
            }

            @Override
            public void onDelete(T resource, boolean finalStateUnknown) {
                send(topic, key.apply(resource), null);
            }
        };
    }

    /** A pod as the agents need it; one not scheduled yet is described with no node. */
    static Pod describe(io.fabric8.kubernetes.api.model.Pod pod) {
        Pod.Builder record = Pod.newBuilder().setNamespace(pod.getMetadata().getNamespace())
                .setName(pod.getMetadata().getName())
                .setUid(orEmpty(pod.getMetadata().getUid()));
        if (pod.getMetadata().getLabels() != null) {
            record.putAllLabels(pod.getMetadata().getLabels());
        }
        if (pod.getSpec() != null) {
            record.setNodeName(orEmpty(pod.getSpec().getNodeName()));
            for (var container : pod.getSpec().getContainers()) {
                for (ContainerPort port : container.getPorts()) {
                    if (port.getName() != null && port.getContainerPort() != null) {
                        record.addNamedPorts(NamedPort.newBuilder().setName(port.getName())
                                .setPort(port.getContainerPort()).setProtocol(protocol(port.getProtocol())));
                    }
                }
            }
        }
        if (pod.getStatus() != null) {
            if (pod.getStatus().getPodIPs() != null && !pod.getStatus().getPodIPs().isEmpty()) {
                pod.getStatus().getPodIPs().stream().map(PodIP::getIp).filter(ip -> ip != null).forEach(record::addIps);
            } else if (pod.getStatus().getPodIP() != null) {
                record.addIps(pod.getStatus().getPodIP());
            }
        }
        for (OwnerReference owner : pod.getMetadata().getOwnerReferences()) {
            if (Boolean.TRUE.equals(owner.getController())) {
                String hash = pod.getMetadata().getLabels() == null ? null
                        : pod.getMetadata().getLabels().get("pod-template-hash");
                // A Deployment's pods are owned by its ReplicaSet, named <deployment>-<pod-template-hash>.
                if ("ReplicaSet".equals(owner.getKind()) && hash != null && owner.getName().endsWith("-" + hash)) {
                    record.setWorkloadKind("Deployment")
                            .setWorkloadName(owner.getName().substring(0, owner.getName().length() - hash.length() - 1));
                } else {
                    record.setWorkloadKind(owner.getKind()).setWorkloadName(owner.getName());
                }
            }
        }
        return record.build();
    }

    static Namespace describe(io.fabric8.kubernetes.api.model.Namespace namespace) {
        Namespace.Builder record = Namespace.newBuilder().setName(namespace.getMetadata().getName());
        if (namespace.getMetadata().getLabels() != null) {
            record.putAllLabels(namespace.getMetadata().getLabels());
        }
        return record.build();
    }

    static Node describe(io.fabric8.kubernetes.api.model.Node node) {
        Node.Builder record = Node.newBuilder().setName(node.getMetadata().getName());
        if (node.getStatus() != null) {
            node.getStatus().getAddresses().stream()
                    .filter(a -> "InternalIP".equals(a.getType()) || "ExternalIP".equals(a.getType()))
                    .map(a -> a.getAddress()).filter(a -> a != null && a.matches("[0-9a-fA-F:.]+")).sorted().distinct()
                    .forEach(record::addAddresses);
        }
        if (node.getSpec() != null && node.getSpec().getPodCIDRs() != null) {
            record.addAllPodCidrs(node.getSpec().getPodCIDRs());
        }
        return record.build();
    }

    /** The API server's addresses are the union of the kubernetes service's slices. */
    private synchronized void apiServerSlice(EndpointSlice slice, boolean deleted) {
        String name = slice.getMetadata().getName();
        if (deleted) {
            apiServerSlices.remove(name);
        } else {
            List<String> addresses = new ArrayList<>();
            for (var endpoint : slice.getEndpoints()) {
                boolean ready = endpoint.getConditions() == null || !Boolean.FALSE.equals(endpoint.getConditions().getReady());
                if (ready) {
                    addresses.addAll(endpoint.getAddresses());
                }
            }
            apiServerSlices.put(name, addresses);
        }
        TreeSet<String> all = new TreeSet<>();
        apiServerSlices.values().forEach(all::addAll);
        send(TopicId.API_SERVER, API_SERVER_KEY, ApiServerEndpoints.newBuilder().addAllAddresses(all).build());
    }

    private void send(TopicId topic, String key, Message value) {
        String name = catalogue.name(topic);
        String id = name + "|" + key;
        Message previous = value == null ? published.remove(id) : published.put(id, value);
        if (value != null ? value.equals(previous) : previous == null) {
            return;
        }
        if (value != null) {
            refusedTombstones.remove(name + "|" + key);
        }
        producer.send(new ProducerRecord<>(name, key, value == null ? null : value.toByteArray()), (metadata, error) -> {
            if (error == null) {
                sent.incrementAndGet();
            } else {
                sendErrors.incrementAndGet();
                if (value == null) {
                    refusedTombstones.put(name + "|" + key, topic);
                } else {
                    // Sent again at the next resync: forget it was published.
                    published.remove(id, value);
                }
                LOG.warn("publishing {} to {} failed: {}", key, name, error.getMessage());
            }
        });
    }

    /** Sends again the deletions Kafka refused, unless the object has come back since. */
    private void retryTombstones() {
        for (Map.Entry<String, TopicId> e : refusedTombstones.entrySet()) {
            String key = e.getKey().substring(e.getKey().indexOf('|') + 1);
            if (!published.containsKey(e.getKey()) && refusedTombstones.remove(e.getKey(), e.getValue())) {
                producer.send(new ProducerRecord<>(catalogue.name(e.getValue()), key, null), (metadata, error) -> {
                    if (error != null) {
                        sendErrors.incrementAndGet();
                        refusedTombstones.putIfAbsent(e.getKey(), e.getValue());
                    } else {
                        sent.incrementAndGet();
                    }
                });
            }
        }
    }

    private static Protocol protocol(String protocol) {
        if (protocol == null) {
            return Protocol.TCP;
        }
        return switch (protocol) {
            case "UDP" -> Protocol.UDP;
            case "SCTP" -> Protocol.SCTP;
            default -> Protocol.TCP;
        };
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }

    /** Records Kafka accepted, and sends it refused. */
    public long sent() {
        return sent.get();
    }

    public long sendErrors() {
        return sendErrors.get();
    }

    @Override
    public void close() {
        retries.shutdownNow();
        informers.forEach(SharedIndexInformer::close);
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
