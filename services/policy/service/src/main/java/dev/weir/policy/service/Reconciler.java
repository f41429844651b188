package dev.weir.policy.service;

import com.google.protobuf.util.Timestamps;
import dev.weir.policy.model.Cidr;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.EndpointPolicy;
import dev.weir.policy.model.IncrementalCompiler;
import dev.weir.policy.model.MapEntry;
import dev.weir.policy.model.MapKey;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.Identity;
import dev.weir.proto.state.v1.IdentityKind;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.PolicyMapEntry;
import dev.weir.proto.state.v1.PolicyRevisionRef;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicId;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Keeps the desired-state topics equal to the compiler's output for the current policies and
 * endpoints. Any change asks for a compile; compiles run one at a time and requests that arrive
 * meanwhile fold into the next one. Only what changed is published: new identities, changed
 * ipcache prefixes (tombstones for removed ones), and the policy state of the endpoints whose map
 * contents or isolation changed, each with its revision increased.
 */
@Component
public class Reconciler {

    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    private final PolicyStore store;
    private final PgIdentityAllocator identities;
    private final DesiredStateTopics topics;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "weir-policy-compile");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean requested = new AtomicBoolean();
    private final AtomicLong compiles = new AtomicLong();
    private final Map<String, Policy> parsed = new HashMap<>();
    private volatile Compilation last;
    /** The ipcache of the last compile, as published. */
    private Map<Cidr, Integer> publishedIpcache;
    private volatile List<Policy> lastPolicies = List.of();
    private volatile Map<String, PolicyStore.StoredPolicy> policies = Map.of();
    private final IncrementalCompiler compiler;

    private final PolicyMetrics metrics;

    private final PropagationWatch watch;

    public Reconciler(PolicyStore store, PgIdentityAllocator identities, DesiredStateTopics topics, PolicyMetrics metrics,
            PropagationWatch watch) {
        this.metrics = metrics;
        this.watch = watch;
        this.store = store;
        this.identities = identities;
        this.topics = topics;
        this.compiler = new IncrementalCompiler(identities);
    }

    /** DNS answers recompile at most this often: a storm of answers costs one compile a second. */
    static final Duration DNS_RECOMPILE_INTERVAL = Duration.ofSeconds(1);
    private final java.util.concurrent.ScheduledExecutorService dnsTimer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "weir-policy-dns-recompile");
                t.setDaemon(true);
                return t;
            });
    private final AtomicBoolean dnsPending = new AtomicBoolean();
    private final AtomicLong dnsRecompiles = new AtomicLong();

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        topics.onEndpointsChanged(this::request);
        topics.onDnsChanged(this::requestForDns);
        request();
    }

    /** A compile for new DNS answers, coalesced: at most one per {@link #DNS_RECOMPILE_INTERVAL}. */
    void requestForDns() {
        if (dnsPending.compareAndSet(false, true)) {
            dnsTimer.schedule(() -> {
                dnsPending.set(false);
                dnsRecompiles.incrementAndGet();
                request();
            }, DNS_RECOMPILE_INTERVAL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    public long dnsRecompiles() {
        return dnsRecompiles.get();
    }

    /** Asks for a compile; returns at once. */
    public void request() {
        if (requested.compareAndSet(false, true)) {
            executor.submit(this::compileSafely);
        }
    }

    private void compileSafely() {
        requested.set(false);
        try {
            compile();
        } catch (RuntimeException e) {
            LOG.error("compiling policies failed", e);
        }
    }

    /** The last compilation, for explain and lint. */
    public Compilation last() {
        return last;
    }

    /** The policies the last compilation was made of. */
    public List<Policy> lastPolicies() {
        return lastPolicies;
    }

    /** Compiles a what-if: the given policies, with the service's identities, published nowhere. */
    public Compilation compileWhatIf(Cluster cluster, List<Policy> policies) {
        return PolicyCompiler.compile(cluster, policies, identities, Map.of(), topics.dnsAnswers());
    }

    public long compiles() {
        return compiles.get();
    }

    public Map<String, PolicyStore.StoredPolicy> policies() {
        return policies;
    }

    private synchronized void compile() {
        if (!topics.replayed()) {
            return; // nothing is published from a partial view; the replay's end asks again
        }
        long started = System.nanoTime();
        List<PolicyStore.StoredPolicy> stored = store.active();
        List<Policy> active = new ArrayList<>();
        Map<String, Integer> cookies = new LinkedHashMap<>();
        Map<String, PolicyStore.StoredPolicy> byKey = new LinkedHashMap<>();
        for (PolicyStore.StoredPolicy s : stored) {
            Policy policy = parsed.computeIfAbsent(s.id() + "@" + s.revision(), k -> PolicyParser.parseStored(s.document()));
            active.add(policy);
            cookies.put(policy.key(), (int) s.id());
            byKey.put(policy.key(), s);
        }
        long read = System.nanoTime();
        Cluster cluster = topics.cluster();
        IncrementalCompiler.Result result = compiler.compile(cluster, active, cookies, topics.dnsAnswers());
        Compilation compiled = result.compilation();
        long compiledAt = System.nanoTime();
        publishIdentities(compiled);
        publishIpcache(compiled);
        Map<String, Policy> activeByKey = new HashMap<>();
        active.forEach(p -> activeByKey.put(p.key(), p));
        int changed = publishPolicyStates(cluster, compiled, byKey, activeByKey, republish(result, byKey));
        long sent = System.nanoTime();
        topics.flush();
        long flushed = System.nanoTime();
        this.last = compiled;
        this.lastPolicies = List.copyOf(active);
        this.policies = byKey;
        watch.changed();
        compiles.incrementAndGet();
        metrics.compiled(result.full(), System.nanoTime() - started);
        LOG.info("compiled {} policies for {} of {} endpoints in {} ms (policies read {}, compile {}, publish {}, "
                + "Kafka's acks {}): {} endpoint states published", active.size(),
                result.full() ? cluster.pods().size() : result.recompiled().size(), cluster.pods().size(),
                millis(flushed - started), millis(read - started), millis(compiledAt - read), millis(sent - compiledAt),
                millis(flushed - sent), changed);
        if (topics.waitingForNamespace() > 0) {
            LOG.info("{} endpoints wait for their namespace to be described (they stay closed)",
                    topics.waitingForNamespace());
        }
    }

    private static String millis(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e6);
    }

    /**
     * The pods whose published state may differ: those recompiled, and those holding a policy
     * whose revision moved without its content changing (the state names each policy's revision).
     * Null for every pod.
     */
    private Set<String> republish(IncrementalCompiler.Result result, Map<String, PolicyStore.StoredPolicy> byKey) {
        if (result.full()) {
            return null;
        }
        Set<String> moved = new HashSet<>();
        byKey.forEach((key, stored) -> {
            PolicyStore.StoredPolicy before = policies.get(key);
            if (before == null || before.revision() != stored.revision()) {
                moved.add(key);
            }
        });
        Set<String> pods = new HashSet<>(result.recompiled());
        if (!moved.isEmpty()) {
            result.compilation().endpoints().forEach((pod, endpoint) -> {
                if (endpoint.policies().stream().anyMatch(moved::contains)) {
                    pods.add(pod);
                }
            });
        }
        return pods;
    }

    private void publishIdentities(Compilation compiled) {
        for (dev.weir.policy.model.Identity identity : compiled.identities().values()) {
            String key = Integer.toString(identity.id());
            if (topics.identities.containsKey(key) && !topics.sendErrors(TopicId.IDENTITIES).containsKey(key)) {
                continue;
            }
            Identity.Builder record = Identity.newBuilder().setId(identity.id())
                    .setKind(identity.pod() ? IdentityKind.ENDPOINT : IdentityKind.CIDR);
            if (identity.pod()) {
                new TreeMap<>(identity.podLabels()).forEach((k, v) -> record.addLabels(k + "=" + v));
                record.addLabels("k8s:io.kubernetes.pod.namespace=" + identity.namespace());
            } else {
                record.addLabels("cidr:" + identity.cidr());
            }
            Identity value = record.build();
            topics.publish(TopicId.IDENTITIES, key, value);
            topics.identities.put(key, value);
        }
    }

    private void publishIpcache(Compilation compiled) {
        Map<String, String> refused = topics.sendErrors(TopicId.IPCACHE);
        if (compiled.ipcache().equals(publishedIpcache) && refused.isEmpty()) {
            return; // most changes move no address: nothing to compare entry by entry
        }
        Set<String> wanted = new HashSet<>();
        for (Map.Entry<Cidr, Integer> e : compiled.ipcache().entrySet()) {
            String prefix = e.getKey().toString();
            wanted.add(prefix);
            IpcacheEntry entry = IpcacheEntry.newBuilder().setPrefix(prefix).setIdentity(e.getValue())
                    .setSource(e.getKey().length() == (e.getKey().ipv4() ? 32 : 128) ? "endpoint" : "cidr").build();
            if (!entry.equals(topics.ipcache.get(prefix)) || refused.containsKey(prefix)) {
                topics.publish(TopicId.IPCACHE, prefix, entry);
                topics.ipcache.put(prefix, entry);
            }
        }
        Set<String> gone = new HashSet<>(topics.ipcache.keySet());
        gone.addAll(refused.keySet()); // a tombstone Kafka refused is sent again
        for (String prefix : gone) {
            if (!wanted.contains(prefix)) {
                topics.publish(TopicId.IPCACHE, prefix, null);
                topics.ipcache.remove(prefix);
            }
        }
        publishedIpcache = compiled.ipcache();
    }

    private int publishPolicyStates(Cluster cluster, Compilation compiled, Map<String, PolicyStore.StoredPolicy> byKey,
            Map<String, Policy> active, Set<String> candidates) {
        int changed = 0;
        Set<String> wanted = new HashSet<>();
        // Every endpoint an agent says is there, addressed or not: its state is never taken away.
        Set<String> present = new HashSet<>();
        for (dev.weir.proto.state.v1.Endpoint endpoint : topics.endpoints.values()) {
            present.add(endpoint.getNodeName() + "/" + endpoint.getEndpointId());
        }
        Instant now = Instant.now();
        for (Cluster.Pod pod : cluster.pods()) {
            if (pod.node().isEmpty() || pod.endpointId() == 0) {
                continue;
            }
            String key = pod.node() + "/" + pod.endpointId();
            wanted.add(key);
            boolean failedBefore = topics.sendErrors(TopicId.ENDPOINT_POLICY_STATE).containsKey(key);
            if (candidates != null && !candidates.contains(pod.key()) && !failedBefore) {
                continue;
            }
            EndpointPolicyState state = state(pod, compiled.endpoint(pod.key()), byKey, active);
            EndpointPolicyState previous = topics.policyStates.get(key);
            if (!failedBefore && previous != null
                    && previous.toBuilder().clearRevision().clearCompiled().build().equals(state)) {
                continue;
            }
            EndpointPolicyState published = state.toBuilder()
                    .setRevision(nextRevision(key, previous))
                    .setCompiled(Timestamps.fromMillis(now.toEpochMilli()))
                    .build();
            topics.publish(TopicId.ENDPOINT_POLICY_STATE, key, published);
            topics.policyStates.put(key, published);
            changed++;
        }
        Set<String> gone = new HashSet<>(topics.policyStates.keySet());
        gone.addAll(topics.sendErrors(TopicId.ENDPOINT_POLICY_STATE).keySet()); // a refused tombstone is sent again
        for (String key : gone) {
            // Only the state of an endpoint that is gone from its node goes; a tombstone loosens nothing then.
            if (!wanted.contains(key) && !present.contains(key)) {
                topics.publish(TopicId.ENDPOINT_POLICY_STATE, key, null);
                topics.policyStates.remove(key);
            }
        }
        return changed;
    }

    /**
     * An endpoint's next state revision. A key seen anew (an endpoint id reused on its node after
     * its state was removed) continues after the highest revision its node ever acknowledged:
     * starting again at 1 would read as acknowledged at once by the old endpoint's ack.
     */
    private long nextRevision(String key, EndpointPolicyState previous) {
        long acked = topics.acks.containsKey(key) ? topics.acks.get(key).getRevision() : 0;
        return Math.max(previous == null ? 0 : previous.getRevision(), acked) + 1;
    }

    private static EndpointPolicyState state(Cluster.Pod pod, EndpointPolicy policy,
            Map<String, PolicyStore.StoredPolicy> byKey, Map<String, Policy> active) {
        EndpointPolicyState.Builder state = EndpointPolicyState.newBuilder().setNodeName(pod.node())
                .setEndpointId(pod.endpointId()).setNamespace(pod.namespace()).setPodName(pod.name())
                .setIngressIsolated(policy.ingressIsolated()).setEgressIsolated(policy.egressIsolated());
        List<Map.Entry<MapKey, MapEntry>> entries = new ArrayList<>(policy.entries().entrySet());
        entries.sort(Comparator.comparing((Map.Entry<MapKey, MapEntry> e) -> e.getKey().direction())
                .thenComparingInt(e -> e.getKey().identity()).thenComparingInt(e -> e.getKey().port())
                .thenComparingInt(e -> e.getKey().protocol()));
        for (Map.Entry<MapKey, MapEntry> e : entries) {
            Protocol protocol = Protocol.forNumber(e.getKey().protocol());
            state.addEntries(PolicyMapEntry.newBuilder().setIdentity(e.getKey().identity()).setPort(e.getKey().port())
                    .setEndPort(e.getKey().range() ? e.getKey().endPort() : 0)
                    .setProtocol(protocol == null ? Protocol.PROTOCOL_ANY : protocol)
                    .setDirection(e.getKey().direction() == MapKey.Direction.INGRESS ? Direction.DIRECTION_INGRESS
                            : Direction.DIRECTION_EGRESS)
                    .setDeny(e.getValue().deny()).setCookie(e.getValue().cookie()));
        }
        for (String policyKey : new java.util.TreeSet<>(policy.policies())) {
            PolicyStore.StoredPolicy stored = byKey.get(policyKey);
            Policy parsedPolicy = active.get(policyKey);
            if (stored != null) {
                // A Weir policy isolates a direction only where it has allow rules for it.
                state.addPolicies(PolicyRevisionRef.newBuilder().setKind(stored.kind()).setNamespace(stored.namespace())
                        .setName(stored.name()).setRevision(stored.revision()).addCookies((int) stored.id())
                        .setIsolatesIngress(parsedPolicy != null && parsedPolicy.isolatesIngress())
                        .setIsolatesEgress(parsedPolicy != null && parsedPolicy.isolatesEgress()));
            }
        }
        return state.build();
    }

    @PreDestroy
    void stop() {
        dnsTimer.shutdownNow();
        executor.shutdownNow();
    }
}
