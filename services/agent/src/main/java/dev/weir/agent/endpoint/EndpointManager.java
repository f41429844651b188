package dev.weir.agent.endpoint;

import com.google.protobuf.util.Timestamps;
import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.EndpointEntry;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointState;
import dev.weir.proto.state.v1.NamedPort;
import dev.weir.proto.state.v1.Pod;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's endpoints: the interfaces the container runtime hands over. Attaching records the
 * endpoint and attaches the datapath before the runtime's call returns, so the pod's first packet
 * is judged; the endpoint is published on the endpoints topic once the cluster has described the
 * pod (its labels decide its identity). Detaching goes in the reverse order, with a tombstone.
 * A restarted agent adopts what its attachment records and the pinned datapath still agree on.
 */
public final class EndpointManager implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EndpointManager.class);
    /** Identity of an endpoint whose labels the control plane has not resolved yet (Cilium's "init"). */
    public static final int IDENTITY_INIT = 5;
    /** Endpoint ids are 16 bits in the datapath's maps and events. */
    static final int MAX_ENDPOINT_ID = 65535;

    /** Told when an endpoint appears, so pending desired state can be applied to it. */
    public interface Listener {
        /** @param adopted true for an endpoint an earlier run made (its maps kept), false for a new one */
        void endpointAdded(LocalEndpoint endpoint, boolean adopted);
    }

    private final String node;
    private final Datapath datapath;
    private final EndpointDirectory directory;
    private final AttachmentStore store;
    private final NodePods pods;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final ToIntFunction<String> identityOfAddress;
    private final Map<String, LocalEndpoint> endpoints = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private int lastId;
    /** Records Kafka refused, by key (a tombstone as an empty value): sent again by {@link #resend()}. */
    private final Map<String, Optional<byte[]>> refused = new ConcurrentHashMap<>();
    /** The last send per key: a failure counts only for the latest, so an older record never comes back. */
    private final Map<String, Long> lastSend = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sends = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong publishFailures = new java.util.concurrent.atomic.AtomicLong();

    public EndpointManager(String node, Datapath datapath, EndpointDirectory directory, AttachmentStore store,
            NodePods pods, Producer<String, byte[]> producer, TopicCatalogue catalogue,
            ToIntFunction<String> identityOfAddress) {
        this.node = node;
        this.datapath = datapath;
        this.directory = directory;
        this.store = store;
        this.pods = pods;
        this.producer = producer;
        this.topic = catalogue.name(TopicId.ENDPOINTS);
        this.identityOfAddress = identityOfAddress;
        pods.listen(this::described);
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

    /**
     * Makes the handed interface an endpoint. Idempotent for the same attachment (a runtime that
     * retries ADD); refused for another sandbox of a pod that already has one, or an interface
     * another endpoint uses.
     */
    public LocalEndpoint attach(Attachment attachment) throws IOException {
        LocalEndpoint endpoint = attachLocked(attachment);
        if (endpoint != null) {
            notifyAdded(endpoint, false);
            return endpoint;
        }
        return endpoints.get(attachment.key());
    }

    /** Listeners run outside this manager's lock: they take the desired state's, which takes this one. */
    private void notifyAdded(LocalEndpoint endpoint, boolean adopted) {
        for (Listener listener : listeners) {
            listener.endpointAdded(endpoint, adopted);
        }
    }

    /** @return the new endpoint, or null when this attachment exists already */
    private synchronized LocalEndpoint attachLocked(Attachment attachment) throws IOException {
        LocalEndpoint existing = endpoints.get(attachment.key());
        if (existing != null) {
            if (existing.ifindex() == attachment.ifindex() && existing.hostInterface().equals(attachment.hostInterface())) {
                return null;
            }
            throw new IllegalStateException(attachment.key() + " is attached to " + existing.hostInterface()
                    + " already");
        }
        for (LocalEndpoint other : endpoints.values()) {
            if (other.spec().key().equals(attachment.podKey())) {
                throw new IllegalStateException("pod " + attachment.podKey() + " already has an endpoint (sandbox "
                        + other.attachment().containerId() + "); remove that one first");
            }
            if (other.ifindex() == attachment.ifindex()) {
                throw new IllegalStateException("interface " + attachment.hostInterface() + " is endpoint "
                        + other.endpointId() + "'s already");
            }
        }
        int id = nextFreeId();
        // An id an earlier run used may still have its maps pinned: this endpoint starts with none of them.
        datapath.resetMaps(id);
        int identity = identityOfAddress.applyAsInt(attachment.primaryIp());
        LocalEndpoint endpoint = new LocalEndpoint(PodSpec.of(attachment, described(attachment)), attachment,
                EndpointEntry.of(id, identity > 0 ? identity : IDENTITY_INIT, FLAGS_UNTIL_TOLD, 1, attachment.ipv4(),
                        attachment.ipv6()));
        // Recorded first: an interface that carries Weir's programs always has a record to be found by.
        store.save(attachment, id);
        try {
            datapath.attach(attachment.ifindex(), endpoint.datapath());
        } catch (RuntimeException e) {
            datapath.detach(attachment.ifindex(), id, true);
            store.remove(attachment.key());
            throw e;
        }
        lastId = id;
        register(endpoint);
        // An ipcache entry that arrived between the lookup above and register() found no endpoint to tell.
        int now = identityOfAddress.applyAsInt(attachment.primaryIp());
        if (now > 0 && now != endpoint.identity()) {
            change(id, current -> current.datapath().with(now, current.flags(), current.policyRevision() + 1));
            endpoint = endpoints.get(attachment.key());
        }
        LOG.info("endpoint {} {} ready on {} ({})", id, attachment.podKey(), attachment.hostInterface(),
                attachment.primaryIp());
        return endpoint;
    }

    /** The lowest unused id after the last one given: ids are reused as pods come and go. */
    private int nextFreeId() {
        Set<Integer> used = new HashSet<>();
        endpoints.values().forEach(e -> used.add(e.endpointId()));
        // An interface closed and left to vanish keeps its id (and its maps) until it has.
        for (int ifindex : datapath.recordedInterfaces()) {
            datapath.lookupEndpoint(ifindex).ifPresent(r -> used.add(r.endpointId()));
        }
        for (int i = 1; i <= MAX_ENDPOINT_ID; i++) {
            int candidate = (lastId + i - 1) % MAX_ENDPOINT_ID + 1;
            if (!used.contains(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("all " + MAX_ENDPOINT_ID + " endpoint ids are in use on " + node);
    }

    private Pod described(Attachment attachment) {
        return pods.get(attachment.namespace(), attachment.pod()).orElse(null);
    }

    private void register(LocalEndpoint endpoint) {
        endpoints.put(endpoint.attachment().key(), endpoint);
        directory.putLocal(endpoint);
        publish(endpoint);
    }

    /**
     * After a restart: every recorded attachment whose interface still exists with the same index
     * and whose endpoint the pinned datapath still records is adopted with its endpoint id, its
     * enforcement never interrupted (the programs are swapped in one step). Records of interfaces
     * that are gone, and datapath entries no record explains, are removed.
     *
     * @return how many endpoints were adopted
     */
    public int adopt() throws IOException {
        List<LocalEndpoint> adopted = adoptLocked();
        adopted.forEach(e -> notifyAdded(e, true));
        return adopted.size();
    }

    private synchronized List<LocalEndpoint> adoptLocked() throws IOException {
        Set<Integer> explained = new HashSet<>();
        List<LocalEndpoint> adopted = new ArrayList<>();
        for (AttachmentStore.Stored stored : store.all()) {
            Attachment a = stored.attachment();
            Optional<EndpointEntry> recorded = interfaceIndex(a.hostInterface()).filter(i -> i == a.ifindex())
                    .flatMap(datapath::lookupEndpoint).filter(r -> r.endpointId() == stored.endpointId());
            if (recorded.isEmpty()) {
                LOG.info("forgetting endpoint {} {}: its interface {} is gone", stored.endpointId(), a.podKey(),
                        a.hostInterface());
                release(a.ifindex(), stored.endpointId());
                store.remove(a.key());
                tombstone(a);
                continue;
            }
            EndpointEntry r = recorded.get();
            // Flags and revisions as the datapath enforces them now; the addresses from the attachment.
            LocalEndpoint endpoint = new LocalEndpoint(PodSpec.of(a, described(a)), a,
                    EndpointEntry.of(r.endpointId(), r.identity(), r.flags(), r.policyRevision(), a.ipv4(), a.ipv6())
                            .withStateRevision(r.stateRevision()));
            datapath.attach(a.ifindex(), endpoint.datapath());
            explained.add(a.ifindex());
            lastId = Math.max(lastId, r.endpointId());
            register(endpoint);
            adopted.add(endpoint);
            LOG.info("endpoint {} {} adopted on {}", r.endpointId(), a.podKey(), a.hostInterface());
        }
        for (int ifindex : datapath.recordedInterfaces()) {
            if (!explained.contains(ifindex)) {
                datapath.lookupEndpoint(ifindex).ifPresent(leftover -> {
                    LOG.info("interface {}: no record explains endpoint {}", ifindex, leftover.endpointId());
                    release(ifindex, leftover.endpointId());
                });
            }
        }
        return adopted;
    }

    /**
     * Removes endpoints whose host interface is gone (a pod removed while its DEL was lost):
     * nothing is attached any more, and its address must not keep its identity on this node.
     */
    public synchronized int removeVanished() {
        int removed = 0;
        Set<Integer> present = interfaceIndexes();
        for (LocalEndpoint endpoint : endpoints()) {
            if (present != null && !present.contains(endpoint.ifindex())) {
                LOG.info("endpoint {} {}: interface {} vanished", endpoint.endpointId(), endpoint.spec().key(),
                        endpoint.hostInterface());
                detach(endpoint.attachment().containerId(), endpoint.attachment().ifname());
                removed++;
            }
        }
        // Interfaces closed and left to vanish: once gone, their entries and maps go too.
        Set<Integer> live = new HashSet<>();
        endpoints.values().forEach(e -> live.add(e.ifindex()));
        for (int ifindex : datapath.recordedInterfaces()) {
            if (!live.contains(ifindex) && present != null && !present.contains(ifindex)) {
                datapath.lookupEndpoint(ifindex).ifPresent(r -> datapath.detach(ifindex, r.endpointId(), true));
            }
        }
        return removed;
    }

    /**
     * Lets go of an interface's datapath. One that is gone loses its entry and maps; one that is
     * still there (a pod the runtime removes right after, a record that could not be read, a
     * renamed link) keeps its programs and is closed as a new endpoint is, so it never carries
     * traffic unjudged; the sweep removes it once the interface is gone.
     */
    private void release(int ifindex, int endpointId) {
        if (!interfaceExists(ifindex)) {
            datapath.detach(ifindex, endpointId, true);
            return;
        }
        // Attached again, so this load's programs run on it whatever ran there before.
        datapath.lookupEndpoint(ifindex).ifPresent(r -> datapath.attach(ifindex,
                r.with(r.identity(), FLAGS_UNTIL_TOLD, r.policyRevision() + 1)));
    }

    /** Whether an interface of this index exists in this network namespace (renamed or not). */
    static boolean interfaceExists(int ifindex) {
        Set<Integer> present = interfaceIndexes();
        return present == null || present.contains(ifindex); // cannot tell: keep it closed rather than open it
    }

    /** The indexes of this network namespace's interfaces, or null when they cannot be read. */
    static Set<Integer> interfaceIndexes() {
        Set<Integer> present = new HashSet<>();
        try (var links = Files.list(Path.of("/sys/class/net"))) {
            for (Path link : links.toList()) {
                Path file = link.resolve("ifindex");
                if (Files.exists(file)) {
                    present.add(Integer.parseInt(Files.readString(file).trim()));
                }
            }
            return present;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** The index of a link of this network namespace, by name. */
    public static Optional<Integer> interfaceIndex(String name) {
        try {
            Path file = Path.of("/sys/class/net", name, "ifindex");
            return Files.exists(file) ? Optional.of(Integer.parseInt(Files.readString(file).trim())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether an attachment is what this node enforces now: recorded here and in the datapath
     * with the same endpoint id, on the same interface, with the programs attached.
     */
    public synchronized Optional<String> check(String containerId, String ifname) {
        LocalEndpoint endpoint = endpoints.get(Attachment.key(containerId, ifname));
        if (endpoint == null) {
            return Optional.of("no endpoint for " + Attachment.key(containerId, ifname));
        }
        if (interfaceIndex(endpoint.hostInterface()).filter(i -> i == endpoint.ifindex()).isEmpty()) {
            return Optional.of("interface " + endpoint.hostInterface() + " is gone");
        }
        Optional<EndpointEntry> recorded = datapath.lookupEndpoint(endpoint.ifindex());
        if (recorded.isEmpty() || recorded.get().endpointId() != endpoint.endpointId()) {
            return Optional.of("the datapath does not record endpoint " + endpoint.endpointId() + " on "
                    + endpoint.hostInterface());
        }
        if (!datapath.attached(endpoint.ifindex())) {
            return Optional.of("the datapath's programs are not attached to " + endpoint.hostInterface());
        }
        return Optional.empty();
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
                    publish(updated);
                }
            }
        }
    }

    /** The cluster described a pod of this node anew (labels, ports) or forgot it. */
    private synchronized void described(String podKey, Pod pod) {
        for (Map.Entry<String, LocalEndpoint> e : endpoints.entrySet()) {
            LocalEndpoint current = e.getValue();
            if (current.spec().key().equals(podKey)) {
                LocalEndpoint updated = current.with(PodSpec.of(current.attachment(), pod));
                e.setValue(updated);
                directory.putLocal(updated);
                publish(updated);
            }
        }
    }

    /** The attachment the runtime made under this key, if this node has it. */
    public Optional<Attachment> attachment(String containerId, String ifname) {
        return Optional.ofNullable(endpoints.get(Attachment.key(containerId, ifname))).map(LocalEndpoint::attachment);
    }

    /** The endpoint as it is now, by id. */
    public synchronized Optional<LocalEndpoint> byId(int endpointId) {
        return endpoints.values().stream().filter(e -> e.endpointId() == endpointId).findFirst();
    }

    /** The endpoint of a pod of this node, by namespace and name. */
    public synchronized Optional<LocalEndpoint> byPod(String namespace, String pod) {
        String key = namespace + "/" + pod;
        return endpoints.values().stream().filter(e -> e.spec().key().equals(key)).findFirst();
    }

    /**
     * Ends an attachment: detaches the datapath, forgets the record, publishes a tombstone.
     * Idempotent: an attachment that is not known (any more) is not an error.
     *
     * @return the endpoint that was removed, if there was one
     */
    public synchronized Optional<LocalEndpoint> detach(String containerId, String ifname) {
        LocalEndpoint endpoint = endpoints.remove(Attachment.key(containerId, ifname));
        if (endpoint == null) {
            return Optional.empty();
        }
        directory.removeLocal(endpoint);
        try {
            // Only this endpoint's entry: an index the kernel gave a new interface since is someone else's.
            if (datapath.lookupEndpoint(endpoint.ifindex()).filter(r -> r.endpointId() == endpoint.endpointId())
                    .isPresent()) {
                release(endpoint.ifindex(), endpoint.endpointId());
            }
        } catch (RuntimeException e) {
            LOG.warn("detaching {}: {}", endpoint.spec().key(), e.getMessage());
        }
        try {
            store.remove(endpoint.attachment().key());
        } catch (IOException e) {
            LOG.warn("removing the record of {}: {}", endpoint.spec().key(), e.getMessage());
        }
        tombstone(endpoint.attachment());
        LOG.info("endpoint {} {} removed", endpoint.endpointId(), endpoint.spec().key());
        return Optional.of(endpoint);
    }

    /** Removes every attachment of a CNI network not in the runtime's list of valid ones (CNI GC). */
    public synchronized int collect(String network, Set<String> validKeys) {
        int removed = 0;
        for (LocalEndpoint endpoint : endpoints()) {
            Attachment a = endpoint.attachment();
            if (a.network().equals(network) && !validKeys.contains(a.key())) {
                detach(a.containerId(), a.ifname());
                removed++;
            }
        }
        return removed;
    }

    public List<LocalEndpoint> endpoints() {
        return new ArrayList<>(endpoints.values());
    }

    private String key(PodSpec spec) {
        return node + "/" + spec.namespace() + "/" + spec.pod();
    }

    private void tombstone(Attachment a) {
        String key = node + "/" + a.podKey();
        directory.putEndpoint(key, null);
        send(key, null);
    }

    /**
     * Publishes the endpoint once the cluster has described its pod: its labels decide its
     * identity, and an endpoint published without them would get the identity of a pod with no
     * labels. Until then it stays closed, as every new endpoint is.
     */
    private void publish(LocalEndpoint endpoint) {
        PodSpec spec = endpoint.spec();
        if (pods.get(spec.namespace(), spec.pod()).isEmpty()) {
            LOG.info("endpoint {} {}: waiting for the cluster to describe the pod", endpoint.endpointId(), spec.key());
            return;
        }
        Instant now = Instant.now();
        Endpoint.Builder record = Endpoint.newBuilder()
                .setNodeName(node)
                .setNamespace(spec.namespace())
                .setPodName(spec.pod())
                .setEndpointId(endpoint.endpointId())
                .putAllLabels(spec.labels())
                .addAllIps(spec.ips())
                .setInterfaceName(endpoint.hostInterface())
                .setIdentity(endpoint.identity() == IDENTITY_INIT ? 0 : endpoint.identity())
                .setState(EndpointState.READY)
                .setUpdated(Timestamps.fromMillis(now.toEpochMilli()))
                .setWorkloadName(spec.workloadName())
                .setWorkloadKind(spec.workloadKind());
        for (PodSpec.NamedPort port : spec.namedPorts()) {
            Protocol protocol = Protocol.forNumber(port.protocol());
            record.addNamedPorts(NamedPort.newBuilder().setName(port.name()).setPort(port.port())
                    .setProtocol(protocol == null ? Protocol.PROTOCOL_ANY : protocol));
        }
        Endpoint value = record.build();
        String key = key(spec);
        Endpoint published = directory.endpoint(key).orElse(null);
        directory.putEndpoint(key, value);
        // A restarted agent that adopts its pods publishes nothing new: the topic already says it.
        if (published != null && published.toBuilder().clearUpdated().build().equals(value.toBuilder().clearUpdated().build())) {
            return;
        }
        send(key, value.toByteArray());
    }

    /**
     * Sends without waiting for the broker (this runs under the manager's lock); a record Kafka
     * refuses is counted and kept, and sent again by the next {@link #resend()} unless a newer one
     * for its key was sent meanwhile.
     */
    private void send(String key, byte[] value) {
        long generation = sends.incrementAndGet();
        synchronized (lastSend) {
            lastSend.put(key, generation);
            refused.remove(key);
        }
        try {
            producer.send(new ProducerRecord<>(topic, key, value), (metadata, e) -> {
                if (e != null) {
                    failed(key, value, generation, e);
                } else {
                    lastSend.remove(key, generation);
                }
            });
        } catch (RuntimeException e) {
            failed(key, value, generation, e);
        }
    }

    private void failed(String key, byte[] value, long generation, Exception e) {
        publishFailures.incrementAndGet();
        // Kept only if no newer record for the key was sent since: that one decides.
        synchronized (lastSend) {
            if (Long.valueOf(generation).equals(lastSend.get(key))) {
                refused.put(key, Optional.ofNullable(value));
            }
        }
        LOG.warn("endpoint record {} not published (sent again later): {}", key, e.toString());
    }

    /** Sends again what Kafka refused; the agent's housekeeping calls it. */
    public synchronized void resend() {
        for (Map.Entry<String, Optional<byte[]>> e : refused.entrySet()) {
            if (refused.remove(e.getKey(), e.getValue())) {
                send(e.getKey(), e.getValue().orElse(null));
            }
        }
    }

    /** Endpoint records Kafka refused since start, and how many wait to be sent again. */
    public long publishFailures() {
        return publishFailures.get();
    }

    public int unpublished() {
        return refused.size();
    }

    /** The agent stops: pods outlive it, and so do their attachments and the datapath's enforcement. */
    @Override
    public void close() {
        producer.flush();
    }
}
