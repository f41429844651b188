package dev.weir.agent.endpoint;

import com.google.protobuf.Timestamp;
import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.EndpointEntry;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointState;
import dev.weir.proto.state.v1.NamedPort;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's endpoints: creates a pod's network, attaches the datapath before the pod carries
 * traffic, records it in the directory and publishes it on the endpoints topic; removes it in the
 * reverse order, with a tombstone.
 */
public final class EndpointManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EndpointManager.class);
    /** Identity of an endpoint whose labels the control plane has not resolved yet (Cilium's "init"). */
    public static final int IDENTITY_INIT = 5;

    /** Told when an endpoint appears, so pending desired state can be applied to it. */
    public interface Listener {
        /** @param adopted true for an endpoint an earlier run made (its maps kept), false for a new one */
        void endpointAdded(LocalEndpoint endpoint, boolean adopted);
    }

    private final String node;
    private final PodNetwork network;
    private final Datapath datapath;
    private final EndpointDirectory directory;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final ToIntFunction<String> identityOfAddress;
    private final Map<String, LocalEndpoint> endpoints = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicInteger lastId = new java.util.concurrent.atomic.AtomicInteger();

    public EndpointManager(String node, PodNetwork network, Datapath datapath, EndpointDirectory directory,
            Producer<String, byte[]> producer, TopicCatalogue catalogue, ToIntFunction<String> identityOfAddress) {
        this.node = node;
        this.network = network;
        this.datapath = datapath;
        this.directory = directory;
        this.producer = producer;
        this.topic = catalogue.name(TopicId.ENDPOINTS);
        this.identityOfAddress = identityOfAddress;
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /**
     * Closed until told: a new endpoint is isolated both ways, but for DNS to the cluster's
     * resolvers, until the control plane says what applies to it (also "no policy selects you").
     */
    public static final int FLAGS_UNTIL_TOLD = MapLayout.EP_INGRESS_ISOLATED | MapLayout.EP_EGRESS_ISOLATED
            | MapLayout.EP_AWAITING_POLICY;

    public LocalEndpoint add(PodSpec spec) throws IOException {
        if (endpoints.containsKey(spec.key())) {
            throw new IllegalStateException(spec.key() + " already exists on " + node);
        }
        int id = lastId.incrementAndGet();
        // An id an earlier run used may still have its maps pinned: this endpoint starts with none of them.
        datapath.resetMaps(id);
        PodNetwork.PodInterface pod = network.create(spec.namespace(), spec.pod(), spec.ip(), spec.resolvConf());
        int identity = identityOfAddress.applyAsInt(spec.ip());
        LocalEndpoint endpoint = new LocalEndpoint(spec, pod.netns(), pod.hostInterface(), pod.ifindex(),
                entry(spec, id, identity > 0 ? identity : IDENTITY_INIT, FLAGS_UNTIL_TOLD, 1));
        try {
            datapath.attach(endpoint.ifindex(), endpoint.datapath());
        } catch (RuntimeException e) {
            network.delete(spec.namespace(), spec.pod());
            throw e;
        }
        register(endpoint, false);
        LOG.info("endpoint {} {} ready on {} ({})", endpoint.endpointId(), spec.key(), endpoint.hostInterface(), spec.ip());
        return endpoint;
    }

    /** The datapath's record of an endpoint of this spec: its own address is the only source it may send from. */
    static EndpointEntry entry(PodSpec spec, int id, int identity, int flags, int revision) {
        return EndpointEntry.of(id, identity, flags, revision, spec.ip());
    }

    private void register(LocalEndpoint endpoint, boolean adopted) {
        endpoints.put(endpoint.spec().key(), endpoint);
        directory.putLocal(endpoint);
        publish(endpoint, EndpointState.READY);
        for (Listener listener : listeners) {
            listener.endpointAdded(endpoint, adopted);
        }
    }

    /**
     * Makes this node host exactly these pods, as after a restart: a pod whose namespace exists
     * and whose interface the pinned datapath still knows is adopted with its endpoint id, its
     * enforcement never interrupted (the programs are swapped in one step); missing pods are
     * created; pods of this node that are not wanted any more are removed.
     */
    public void reconcile(List<PodSpec> wanted) throws IOException {
        java.util.Set<String> wantedNetns = new java.util.HashSet<>();
        List<PodSpec> toCreate = new ArrayList<>();
        for (PodSpec spec : wanted) {
            wantedNetns.add(network.namespaceOf(spec.namespace(), spec.pod()));
        }
        for (String leftover : network.existing()) {
            if (!wantedNetns.contains(leftover)) {
                LOG.info("removing pod namespace {}: not wanted on this node", leftover);
                network.deleteNamespace(leftover);
            }
        }
        List<LocalEndpoint> adopted = new ArrayList<>();
        for (PodSpec spec : wanted) {
            java.util.Optional<Integer> ifindex = network.ifindexOf(spec.namespace(), spec.pod());
            java.util.Optional<EndpointEntry> recorded = ifindex.flatMap(datapath::lookupEndpoint);
            if (recorded.isEmpty()) {
                network.delete(spec.namespace(), spec.pod());
                toCreate.add(spec);
                continue;
            }
            EndpointEntry r = recorded.get();
            lastId.accumulateAndGet(r.endpointId(), Math::max);
            // Flags and revision as the datapath enforces them now; the address from the pod's spec.
            adopted.add(new LocalEndpoint(spec, network.namespaceOf(spec.namespace(), spec.pod()),
                    network.hostInterfaceOf(spec.namespace(), spec.pod()), ifindex.get(),
                    entry(spec, r.endpointId(), r.identity(), r.flags(), r.policyRevision())
                            .withStateRevision(r.stateRevision())));
        }
        for (LocalEndpoint endpoint : adopted) {
            datapath.attach(endpoint.ifindex(), endpoint.datapath());
            register(endpoint, true);
            LOG.info("endpoint {} {} adopted on {}", endpoint.endpointId(), endpoint.spec().key(), endpoint.hostInterface());
        }
        for (PodSpec spec : toCreate) {
            add(spec);
        }
    }

    /**
     * Gives an endpoint of this node a new identity (its address now has another in the ipcache).
     * The policy revision moves on, so every connection tracked under the old identity is judged
     * again at its next packet. Flags and the state revision stay as they are now: the policy
     * state is another writer's, and a stale copy of it must not come back through this one.
     */
    public synchronized void updateIdentity(int endpointId, int identity) {
        change(endpointId, current -> current.datapath().with(identity, current.flags(), current.policyRevision() + 1));
    }

    /**
     * Puts a policy revision in force on an endpoint of this node: its flags (isolation, audit,
     * awaiting) and the control plane's revision number. The policy revision moves on, so every
     * tracked connection is judged again at its next packet. The identity stays as it is now.
     */
    public synchronized void updatePolicy(int endpointId, int flags, long stateRevision) {
        change(endpointId, current -> current.datapath().with(current.identity(), flags, current.policyRevision() + 1)
                .withStateRevision((int) stateRevision));
    }

    private void change(int endpointId, java.util.function.Function<LocalEndpoint, EndpointEntry> next) {
        for (Map.Entry<String, LocalEndpoint> e : endpoints.entrySet()) {
            LocalEndpoint current = e.getValue();
            if (current.endpointId() == endpointId) {
                EndpointEntry entry = next.apply(current);
                datapath.update(current.ifindex(), entry);
                LocalEndpoint updated = current.with(entry);
                e.setValue(updated);
                directory.putLocal(updated);
                if (current.identity() != entry.identity()) {
                    publish(updated, EndpointState.READY);
                }
            }
        }
    }

    /** The endpoint as it is now, by id. */
    public synchronized java.util.Optional<LocalEndpoint> byId(int endpointId) {
        return endpoints.values().stream().filter(e -> e.endpointId() == endpointId).findFirst();
    }

    public void remove(String namespace, String pod) {
        LocalEndpoint endpoint = endpoints.remove(namespace + "/" + pod);
        if (endpoint == null) {
            return;
        }
        directory.removeLocal(endpoint);
        try {
            datapath.detach(endpoint.ifindex(), endpoint.endpointId(), true);
        } catch (RuntimeException e) {
            LOG.warn("detaching {}: {}", endpoint.spec().key(), e.getMessage());
        }
        network.delete(namespace, pod);
        producer.send(new ProducerRecord<>(topic, key(endpoint), null));
    }

    public List<LocalEndpoint> endpoints() {
        return new ArrayList<>(endpoints.values());
    }

    private String key(LocalEndpoint endpoint) {
        return node + "/" + endpoint.spec().namespace() + "/" + endpoint.spec().pod();
    }

    private void publish(LocalEndpoint endpoint, EndpointState state) {
        PodSpec spec = endpoint.spec();
        Instant now = Instant.now();
        Endpoint.Builder record = Endpoint.newBuilder()
                .setNodeName(node)
                .setNamespace(spec.namespace())
                .setPodName(spec.pod())
                .setEndpointId(endpoint.endpointId())
                .putAllLabels(spec.labels())
                .addIps(spec.ip())
                .setInterfaceName(endpoint.hostInterface())
                .setIdentity(endpoint.identity() == IDENTITY_INIT ? 0 : endpoint.identity())
                .setState(state)
                .setUpdated(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setWorkloadName(spec.workloadName() == null ? "" : spec.workloadName())
                .setWorkloadKind(spec.workloadKind() == null ? "" : spec.workloadKind());
        for (PodSpec.NamedPort port : spec.namedPorts()) {
            Protocol protocol = Protocol.forNumber(port.protocol());
            record.addNamedPorts(NamedPort.newBuilder().setName(port.name()).setPort(port.port())
                    .setProtocol(protocol == null ? Protocol.PROTOCOL_ANY : protocol));
        }
        Endpoint value = record.build();
        Endpoint published = directory.endpoint(key(endpoint)).orElse(null);
        directory.putEndpoint(key(endpoint), value);
        // A restarted agent that adopts its pods publishes nothing new: the topic already says it.
        if (published != null && published.toBuilder().clearUpdated().build().equals(value.toBuilder().clearUpdated().build())) {
            return;
        }
        producer.send(new ProducerRecord<>(topic, key(endpoint), value.toByteArray()));
    }

    /** Removes every endpoint: detaches, deletes the pods, publishes tombstones. */
    @Override
    public void close() {
        for (LocalEndpoint endpoint : endpoints()) {
            remove(endpoint.spec().namespace(), endpoint.spec().pod());
        }
        producer.flush();
    }
}
