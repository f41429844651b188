package dev.weir.policy.service;

import com.google.protobuf.Message;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.ProtoConsumer;
import dev.weir.proto.dns.v1.DnsObservation;
import dev.weir.policy.model.Cluster;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.NamedPort;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.Identity;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import jakarta.annotation.PreDestroy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The service's view of the Kafka topics it reads and writes: endpoints (as agents publish them),
 * what it published itself (identities, ipcache, endpoint policy state, replayed at start so a
 * restarted service publishes only what changed), and the agents' acks.
 */
@Component
public class DesiredStateTopics {

    private static final Logger LOG = LoggerFactory.getLogger(DesiredStateTopics.class);

    final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
    final Map<String, Identity> identities = new ConcurrentHashMap<>();
    final Map<String, IpcacheEntry> ipcache = new ConcurrentHashMap<>();
    final Map<String, EndpointPolicyState> policyStates = new ConcurrentHashMap<>();
    final Map<String, MapApplyAck> acks = new ConcurrentHashMap<>();
    /** What the cluster metadata watcher published: namespaces with labels, nodes' addresses, the API server's. */
    final Map<String, dev.weir.proto.state.v1.Namespace> namespaces = new ConcurrentHashMap<>();
    final Map<String, dev.weir.proto.state.v1.Node> nodes = new ConcurrentHashMap<>();
    final Map<String, dev.weir.proto.state.v1.ApiServerEndpoints> apiServer = new ConcurrentHashMap<>();
    /** The addresses DNS answered per name, until they expire, for toFQDNs rules. */
    private final DnsAnswerCache dnsAnswers;
    private final java.util.concurrent.ScheduledExecutorService expiry =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "weir-policy-fqdn-expiry");
                t.setDaemon(true);
                return t;
            });

    private final TopicCatalogue catalogue = TopicCatalogue.standard();
    private final KafkaProducer<String, byte[]> producer;
    private final List<ProtoConsumer<?>> consumers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final dev.weir.common.kafka.KafkaConnection kafka;
    private volatile Runnable onEndpointsChanged = () -> { };
    private volatile Runnable onDnsChanged = () -> { };
    private final List<java.util.function.BiConsumer<String, MapApplyAck>> onAck =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<TopicId, ProtoConsumer<?>> replays = new java.util.LinkedHashMap<>();
    private volatile boolean replayed;
    /**
     * Per topic, the keys whose last send Kafka refused, with why: sent again at the next compile
     * and, for endpoint states, shown in status. Per topic, because keys of different topics can
     * read alike (a node "10.0.0.7" with endpoint 32 and the ipcache prefix 10.0.0.7/32).
     */
    private final Map<TopicId, Map<String, String>> sendErrors = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Where the cluster is watched (weir.kubernetes.enabled), a pod is compiled only once its
     * namespace is described: without the namespace's labels a NotIn or DoesNotExist selector
     * would match it, and a deny on a namespace label would miss it. Until then it is left out
     * (its endpoint stays closed, as every new one does).
     */
    private final boolean namespacesRequired;
    private volatile int waitingForNamespace;

    public DesiredStateTopics(PolicyServiceProperties properties,
            @org.springframework.beans.factory.annotation.Value("${weir.kubernetes.enabled:false}") boolean kubernetes)
            throws InterruptedException {
        this.namespacesRequired = kubernetes;
        this.kafka = properties.kafka();
        this.dnsAnswers = new DnsAnswerCache(properties.fqdnMinTtl(), properties.fqdnMaxTtl(),
                properties.fqdnMaxAddresses());
        this.producer = new KafkaProducer<>(KafkaClients.producerConfig(kafka, "weir-policy"));
        replay(TopicId.IDENTITIES, (r, v) -> put(identities, r.key(), (Identity) v));
        replay(TopicId.IPCACHE, (r, v) -> put(ipcache, r.key(), (IpcacheEntry) v));
        replay(TopicId.ENDPOINT_POLICY_STATE, (r, v) -> put(policyStates, r.key(), (EndpointPolicyState) v));
        replay(TopicId.MAP_ACKS, (r, v) -> {
            MapApplyAck ack = (MapApplyAck) v;
            if (ack != null) {
                acks.merge(r.key(), ack, (old, now) -> now.getRevision() >= old.getRevision() ? now : old);
                onAck.forEach(listener -> listener.accept(r.key(), ack));
            }
        });
        replay(TopicId.DNS_OBSERVATIONS, (r, v) -> {
            DnsObservation observation = (DnsObservation) v;
            if (observation == null || observation.getRcode() != 0 || observation.getIpsCount() == 0) {
                return;
            }
            java.time.Instant time = java.time.Instant.ofEpochSecond(observation.getTime().getSeconds(),
                    observation.getTime().getNanos());
            if (dnsAnswers.observe(observation.getName(), observation.getIpsList(), observation.getTtl(), time,
                    java.time.Instant.now())) {
                onDnsChanged.run();
            }
        });
        replay(TopicId.NAMESPACES, (r, v) -> {
            put(namespaces, r.key(), (dev.weir.proto.state.v1.Namespace) v);
            onEndpointsChanged.run();
        });
        replay(TopicId.NODES, (r, v) -> {
            put(nodes, r.key(), (dev.weir.proto.state.v1.Node) v);
            onEndpointsChanged.run();
        });
        replay(TopicId.API_SERVER, (r, v) -> {
            put(apiServer, r.key(), (dev.weir.proto.state.v1.ApiServerEndpoints) v);
            onEndpointsChanged.run();
        });
        replay(TopicId.ENDPOINTS, (r, v) -> {
            put(endpoints, r.key(), (Endpoint) v);
            onEndpointsChanged.run();
        });
        // Nothing is compiled or published until every topic is replayed to its end: a partial view
        // would tombstone what it has not seen yet. The wait has no deadline; readiness says why.
        Thread waiter = new Thread(this::awaitReplays, "weir-policy-replay");
        waiter.setDaemon(true);
        waiter.start();
        long sweep = Math.max(1, Math.min(30, properties.fqdnMinTtl().toSeconds() / 4));
        expiry.scheduleWithFixedDelay(() -> {
            if (dnsAnswers.expire(java.time.Instant.now())) {
                onDnsChanged.run();
            }
        }, sweep, sweep, java.util.concurrent.TimeUnit.SECONDS);
    }

    private void awaitReplays() {
        for (Map.Entry<TopicId, ProtoConsumer<?>> replay : replays.entrySet()) {
            long started = System.nanoTime();
            while (!caughtUp(replay.getValue())) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                LOG.warn("still replaying {} after {} s: publishing nothing until it has caught up",
                        catalogue.name(replay.getKey()), (System.nanoTime() - started) / 1_000_000_000L);
            }
        }
        replayed = true;
        LOG.info("desired state replayed; compiling");
        onEndpointsChanged.run();
    }

    private static boolean caughtUp(ProtoConsumer<?> consumer) {
        try {
            return consumer.awaitCaughtUp(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Endpoints left out of the last compile because their namespace is not described yet. */
    int waitingForNamespace() {
        return waitingForNamespace;
    }

    /** True once every topic the service reads was replayed to the end it had at start. */
    boolean replayed() {
        return replayed;
    }

    /** The topics whose consumer is waiting after a failure, with the failure. */
    Map<String, String> failing() {
        Map<String, String> failing = new java.util.TreeMap<>();
        replays.forEach((topic, consumer) -> {
            if (!consumer.healthy()) {
                failing.put(catalogue.name(topic), consumer.lastFailure());
            }
        });
        return failing;
    }

    /** The topics not replayed to their end yet. */
    List<String> pendingReplays() {
        List<String> pending = new ArrayList<>();
        replays.forEach((topic, consumer) -> {
            if (!consumer.caughtUp()) {
                pending.add(catalogue.name(topic));
            }
        });
        return pending;
    }

    /** name → the addresses toFQDNs rules allow for it now. */
    Map<String, java.util.Set<String>> dnsAnswers() {
        return dnsAnswers.snapshot();
    }

    private static <V> void put(Map<String, V> map, String key, V value) {
        if (value == null) {
            map.remove(key);
        } else {
            map.put(key, value);
        }
    }

    private void replay(TopicId topic, ProtoConsumer.Handler<Message> handler) {
        ProtoConsumer<Message> consumer = ProtoConsumer.replaying(catalogue, topic, "weir-policy",
                new KafkaConsumer<>(KafkaClients.consumerConfig(kafka, "weir-policy")), producer, handler);
        consumers.add(consumer);
        replays.put(topic, consumer);
        Thread thread = new Thread(consumer, "weir-policy-" + topic.catalogueId());
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    /**
     * The pods the agents published, as the compiler models them, with the namespaces' labels,
     * the nodes' and the API server's addresses the metadata watcher published.
     */
    Cluster cluster() {
        Cluster cluster = new Cluster();
        int waiting = 0;
        for (dev.weir.proto.state.v1.Namespace ns : namespaces.values()) {
            Map<String, String> labels = new java.util.HashMap<>(ns.getLabelsMap());
            // Kubernetes sets it on every namespace; a namespace described without it still has it.
            labels.put("kubernetes.io/metadata.name", ns.getName());
            cluster.namespace(ns.getName(), labels);
        }
        new java.util.TreeMap<>(nodes).forEach((name, node) -> cluster.node(name, node.getAddressesList()));
        List<String> apiAddresses = new ArrayList<>();
        apiServer.values().forEach(a -> apiAddresses.addAll(a.getAddressesList()));
        cluster.apiServer(apiAddresses.stream().sorted().distinct().toList());
        for (Endpoint e : endpoints.values()) {
            if (e.getIpsCount() == 0) {
                continue;
            }
            if (namespacesRequired && !namespaces.containsKey(e.getNamespace())) {
                waiting++;
                continue;
            }
            List<Cluster.ContainerPort> ports = new ArrayList<>();
            for (NamedPort port : e.getNamedPortsList()) {
                dev.weir.policy.model.Protocol protocol = switch (port.getProtocol()) {
                    case UDP -> dev.weir.policy.model.Protocol.UDP;
                    case SCTP -> dev.weir.policy.model.Protocol.SCTP;
                    default -> dev.weir.policy.model.Protocol.TCP;
                };
                ports.add(new Cluster.ContainerPort(port.getName(), port.getPort(), protocol));
            }
            cluster.pod(new Cluster.Pod(e.getNamespace(), e.getPodName(), e.getLabelsMap(), e.getIps(0), ports,
                    e.getNodeName(), e.getEndpointId()));
        }
        waitingForNamespace = waiting;
        return cluster;
    }

    dev.weir.common.kafka.KafkaConnection kafka() {
        return kafka;
    }

    void onEndpointsChanged(Runnable listener) {
        this.onEndpointsChanged = listener;
    }

    /** Told of every ack an agent sends (the key is the endpoint's, as its policy state's). */
    void onAck(java.util.function.BiConsumer<String, MapApplyAck> listener) {
        onAck.add(listener);
    }

    /** Told when DNS answers changed what toFQDNs rules allow. */
    void onDnsChanged(Runnable listener) {
        this.onDnsChanged = listener;
    }

    /**
     * Sends a record; a send Kafka refuses is logged, kept in {@link #sendErrors} for the status
     * API and republished at the next compile, never lost silently.
     */
    void publish(TopicId topic, String key, Message value) {
        String name = catalogue.name(topic);
        Map<String, String> errors = sendErrors(topic);
        producer.send(new ProducerRecord<>(name, key, value == null ? null : value.toByteArray()), (metadata, error) -> {
            if (error == null) {
                errors.remove(key);
            } else {
                errors.put(key, name + " refused the record: " + error.getMessage());
                LOG.error("publishing {} to {} failed: {}", key, name, error.getMessage());
            }
        });
    }

    /** The keys of the topic whose last send Kafka refused, with why. */
    Map<String, String> sendErrors(TopicId topic) {
        return sendErrors.computeIfAbsent(topic, t -> new ConcurrentHashMap<>());
    }

    void flush() {
        producer.flush();
    }

    @PreDestroy
    void close() throws InterruptedException {
        expiry.shutdownNow();
        consumers.forEach(ProtoConsumer::close);
        for (Thread thread : threads) {
            thread.join(5000);
        }
        producer.close(Duration.ofSeconds(5));
    }
}
