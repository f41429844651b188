package dev.weir.agent.state;

import com.google.protobuf.util.Timestamps;
import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.PolicyEntry;
import dev.weir.agent.datapath.PolicyKey;
import dev.weir.agent.datapath.Prefix;
import dev.weir.agent.endpoint.EndpointDirectory;
import dev.weir.agent.endpoint.EndpointManager;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.Identity;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converges this node's maps to the control plane's desired state, record by record as the
 * compacted topics deliver it: identities (for enrichment), the ipcache, and the policy state of
 * this node's endpoints. A policy revision is applied whole or not at all, in the order that never
 * opens more than either state allows: the allows it drops go first, then its new and changed
 * entries, then the endpoint's isolation and revision (which makes the datapath judge every
 * tracked connection again), then the denies it drops. A revision that does not fit in the
 * endpoint's map is refused before anything is written; the one in force stays. A tombstone never
 * loosens an endpoint that is still here: the last state stays in force and the tombstone is
 * counted. Each applied (or refused) revision is acknowledged on the acks topic.
 *
 * <p>The handlers throw on a record they cannot apply, which sends it to the dead-letter topic
 * with the reason; the consumers go on with the next record.
 */
public final class DesiredState implements EndpointManager.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(DesiredState.class);

    private final String node;
    private final Datapath datapath;
    private final EndpointDirectory directory;
    private final PolicyCookies cookies;
    private final Producer<String, byte[]> producer;
    private final String ackTopic;
    private final Map<String, Integer> ipcache = new ConcurrentHashMap<>();
    private final Map<Integer, EndpointPolicyState> pending = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong tombstonesKept = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong statesForOtherPods = new java.util.concurrent.atomic.AtomicLong();
    private volatile EndpointManager endpoints;

    public DesiredState(String node, Datapath datapath, EndpointDirectory directory, PolicyCookies cookies,
            Producer<String, byte[]> producer, TopicCatalogue catalogue) {
        this.node = node;
        this.datapath = datapath;
        this.directory = directory;
        this.cookies = cookies;
        this.producer = producer;
        this.ackTopic = catalogue.name(TopicId.MAP_ACKS);
    }

    public void bind(EndpointManager manager) {
        this.endpoints = manager;
        manager.addListener(this);
    }

    /** The identity the ipcache gives an address, or 0. */
    /** The identities the control plane published per prefix, before this node's own addresses became the host. */
    private final Map<String, Integer> publishedIpcache = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile java.util.Set<String> ownAddresses = java.util.Set.of();

    public int identityOf(String ip) {
        Integer identity = ipcache.get(Prefix.parse(ip).toString());
        return identity == null ? 0 : identity;
    }

    public void onIdentity(ConsumerRecord<String, byte[]> record, Identity identity) {
        if (identity == null) {
            directory.putIdentity(Integer.parseInt(record.key()), null);
        } else {
            directory.putIdentity(identity.getId(), identity.getLabelsList());
        }
    }

    /** Reserved identities: the node itself, and every other node (the control plane publishes only the latter). */
    public static final int HOST = 1;
    public static final int REMOTE_NODE = 6;
    public static final int KUBE_APISERVER = 7;

    public synchronized void onIpcache(ConsumerRecord<String, byte[]> record, IpcacheEntry entry) {
        Prefix prefix = Prefix.parse(record.key());
        if (entry == null) {
            datapath.deleteIpcache(java.util.List.of(prefix));
            ipcache.remove(prefix.toString());
            publishedIpcache.remove(prefix.toString());
            return;
        }
        if (entry.getIdentity() == 0) {
            throw new IllegalArgumentException("identity: 0 is not an identity (prefix " + record.key() + ")");
        }
        publishedIpcache.put(prefix.toString(), entry.getIdentity());
        write(prefix, entry.getIdentity());
    }

    /** What the datapath holds for a prefix: the published identity, but this node's own addresses are the host. */
    private void write(Prefix prefix, int published) {
        // The API server's identity too: on a control-plane node its address is the node's own.
        boolean own = (published == REMOTE_NODE || published == KUBE_APISERVER)
                && prefix.length() == (prefix.ipv4() ? 32 : 128) && ownAddresses.contains(prefix.address().getHostAddress());
        int identity = own ? HOST : published;
        datapath.upsertIpcache(Map.of(prefix, identity));
        ipcache.put(prefix.toString(), identity);
        // A local endpoint learns its own identity from its address.
        EndpointManager manager = endpoints;
        if (manager != null && prefix.length() == (prefix.ipv4() ? 32 : 128)) {
            for (LocalEndpoint local : directory.locals()) {
                if (local.spec().ip().equals(prefix.address().getHostAddress()) && local.identity() != identity) {
                    manager.updateIdentity(local.endpointId(), identity);
                }
            }
        }
    }

    /** A node record: this node's own addresses become the host entity in this node's ipcache. */
    public synchronized void onNode(ConsumerRecord<String, byte[]> record, dev.weir.proto.state.v1.Node described) {
        if (!node.equals(record.key())) {
            return;
        }
        java.util.Set<String> before = ownAddresses;
        java.util.Set<String> now = new java.util.HashSet<>();
        if (described != null) {
            for (String address : described.getAddressesList()) {
                now.add(Prefix.parse(address).address().getHostAddress());
            }
        }
        ownAddresses = java.util.Set.copyOf(now);
        java.util.Set<String> touched = new java.util.HashSet<>(before);
        touched.addAll(now);
        for (String address : touched) {
            Prefix prefix = Prefix.parse(address);
            Integer published = publishedIpcache.get(prefix.toString());
            if (published != null) {
                write(prefix, published);
            }
        }
    }

    public synchronized void onPolicyState(ConsumerRecord<String, byte[]> record, EndpointPolicyState state) {
        String prefix = node + "/";
        if (!record.key().startsWith(prefix)) {
            return; // another node's endpoint
        }
        int endpointId = Integer.parseInt(record.key().substring(prefix.length()));
        if (state == null) {
            // Missing data never reads as "allow": an endpoint still here keeps what it enforces.
            pending.remove(endpointId);
            directory.localById(endpointId).ifPresent(local -> {
                tombstonesKept.incrementAndGet();
                LOG.warn("endpoint {}: its policy state was deleted while it is still here; revision {} stays in force",
                        endpointId, local.datapath().stateRevision());
            });
            return;
        }
        if (state.getEndpointId() != endpointId) {
            throw new IllegalArgumentException("endpoint_id: " + state.getEndpointId() + " does not match the key "
                    + record.key());
        }
        PolicyDiff.desired(state); // a malformed record fails here, before anything is written
        directory.localById(endpointId).ifPresentOrElse(e -> apply(e, state),
                () -> pending.merge(endpointId, state, (old, now) -> now.getRevision() >= old.getRevision() ? now : old));
    }

    /**
     * An endpoint appeared. One adopted after a restart takes the state replayed for it; a new one
     * takes none of what is pending under its id, which belonged to a departed endpoint that had
     * the id (the control plane has not even seen the new one yet).
     */
    @Override
    public synchronized void endpointAdded(LocalEndpoint endpoint, boolean adopted) {
        EndpointPolicyState state = pending.remove(endpoint.endpointId());
        if (state != null && adopted) {
            apply(endpoint, state);
        } else if (state != null) {
            LOG.info("endpoint {} is new: the state pending under its id (for {}/{}) is a departed endpoint's",
                    endpoint.endpointId(), state.getNamespace(), state.getPodName());
        }
    }

    private synchronized void apply(LocalEndpoint snapshot, EndpointPolicyState state) {
        int id = snapshot.endpointId();
        LocalEndpoint endpoint = endpoints.byId(id).orElse(snapshot);
        // A record names its pod: one for another pod that had this id is not this endpoint's.
        if (!state.getPodName().isEmpty() && (!state.getPodName().equals(endpoint.spec().pod())
                || !state.getNamespace().equals(endpoint.spec().namespace()))) {
            LOG.warn("endpoint {} ({}): ignoring policy state revision {} for {}/{}, another pod that had the id", id,
                    endpoint.spec().key(), state.getRevision(), state.getNamespace(), state.getPodName());
            statesForOtherPods.incrementAndGet();
            return;
        }
        // The revision in force is kept with the pinned maps: a replayed older record never goes back
        // to what it allowed. The same revision again is applied (a no-op diff) and acknowledged.
        long done = Integer.toUnsignedLong(endpoint.datapath().stateRevision());
        if (state.getRevision() < done) {
            return;
        }
        Map<PolicyKey, PolicyEntry> desired;
        Map<PolicyKey, PolicyEntry> current;
        PolicyDiff.Plan plan;
        try {
            desired = PolicyDiff.desired(state);
            int capacity = datapath.policyUsage(id)[1];
            current = datapath.dumpPolicy(id, capacity);
            plan = PolicyDiff.plan(desired, current);
            if (plan.peakEntries() > capacity) {
                throw new RevisionRefused(desired.size() + " entries (" + plan.peakEntries()
                        + " while the revision replaces the one in force) exceed the policy map's " + capacity
                        + "; revision " + done + " stays in force");
            }
        } catch (RuntimeException e) {
            ack(state, AckStatus.FAILED, e.getMessage(), 0, 0);
            throw e;
        }
        int written = 0;
        int deleted = 0;
        try {
            deleted += datapath.deletePolicy(id, plan.staleAllows());
            written += datapath.upsertPolicy(id, plan.denies());
            written += datapath.upsertPolicy(id, plan.allows());
            endpoints.updatePolicy(id, PolicyDiff.flags(state), state.getRevision());
            deleted += datapath.deletePolicy(id, plan.staleDenies());
        } catch (RuntimeException e) {
            restore(endpoint, current);
            ack(state, AckStatus.FAILED, e.getMessage(), 0, 0);
            throw e;
        }
        cookies.applied(state);
        ack(state, AckStatus.APPLIED, "", written, deleted);
        LOG.info("endpoint {} at revision {}: {} written, {} deleted", id, state.getRevision(), written, deleted);
    }

    /** A revision refused whole before anything was written. */
    static final class RevisionRefused extends IllegalStateException {
        RevisionRefused(String message) {
            super(message);
        }
    }

    /** Puts back the map a failed write left half-changed; the flags were not changed yet or are put back too. */
    private void restore(LocalEndpoint endpoint, Map<PolicyKey, PolicyEntry> before) {
        int id = endpoint.endpointId();
        try {
            PolicyDiff.Diff back = PolicyDiff.diff(before, datapath.dumpPolicy(id, datapath.policyUsage(id)[1]));
            datapath.upsertPolicy(id, back.upserts());
            endpoints.updatePolicy(id, endpoint.flags(), Integer.toUnsignedLong(endpoint.datapath().stateRevision()));
            datapath.deletePolicy(id, back.deletes());
            LOG.warn("endpoint {}: a failed revision was rolled back to the one in force", id);
        } catch (RuntimeException e) {
            LOG.error("endpoint {}: rolling back a failed revision failed too: {}", id, e.getMessage());
        }
    }

    /** States for endpoint ids with no endpoint on this node (yet): an adopted one will take its own. */
    public int pendingStates() {
        return pending.size();
    }

    /** States that named another pod than the endpoint holding their id now: ignored. */
    public long statesForOtherPods() {
        return statesForOtherPods.get();
    }

    /** Tombstones of policy state for endpoints still on this node, which kept their last state. */
    public long tombstonesKept() {
        return tombstonesKept.get();
    }

    private void ack(EndpointPolicyState state, AckStatus status, String error, int written, int deleted) {
        MapApplyAck ack = MapApplyAck.newBuilder().setNodeName(node).setEndpointId(state.getEndpointId())
                .setRevision(state.getRevision()).setStatus(status).setError(error == null ? "" : error)
                .setEntriesWritten(written).setEntriesDeleted(deleted)
                .setApplied(Timestamps.now()).build();
        producer.send(new ProducerRecord<>(ackTopic, node + "/" + state.getEndpointId(), ack.toByteArray()));
    }
}
