package dev.weir.agent;

import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.endpoint.EndpointDirectory;
import dev.weir.agent.endpoint.EndpointManager;
import dev.weir.agent.cni.CniHandler;
import dev.weir.agent.cni.CniServer;
import dev.weir.agent.cni.StandaloneNetwork;
import dev.weir.agent.endpoint.AttachmentStore;
import dev.weir.agent.endpoint.NodePods;
import dev.weir.agent.flow.DnsTracker;
import dev.weir.agent.flow.FlowBuilder;
import dev.weir.agent.flow.FlowPipeline;
import dev.weir.agent.flow.FlowRing;
import dev.weir.agent.flow.LostEvents;
import dev.weir.agent.state.DesiredState;
import dev.weir.agent.state.PolicyCookies;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.ProtoConsumer;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.Identity;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.Pod;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: loads (or adopts) the datapath, converges it to the desired state on Kafka,
 * attaches it to the pods the container runtime hands over through weir-cni, and publishes their
 * flows. It makes no pods itself.
 */
public final class Agent implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    /** Addresses whose resolved names flows carry, over all endpoints (each endpoint at most 256). */
    private static final int RESOLVED_NAMES = 16_384;
    public static final String VERSION = "0.1.0";

    private final AgentConfig config;
    private final TopicCatalogue catalogue = TopicCatalogue.standard();
    private final Datapath datapath;
    private final KafkaProducer<String, byte[]> flowProducer;
    private final KafkaProducer<String, byte[]> stateProducer;
    private final EndpointDirectory directory = new EndpointDirectory();
    private final PolicyCookies cookies = new PolicyCookies();
    private final DesiredState desiredState;
    private final NodePods pods;
    private final EndpointManager endpoints;
    private final CniHandler cni;
    private CniServer cniServer;
    private volatile boolean ready;
    private final FlowRing ring;
    private final LostEvents lost = new LostEvents();
    private final DnsTracker dnsTracker = new DnsTracker(Duration.ofSeconds(5), 65536);
    private final FlowPipeline pipeline;
    private final List<ProtoConsumer<?>> consumers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AgentMetrics metrics;
    private final dev.weir.agent.dns.DnsObservations dnsObservations;
    private final java.util.concurrent.ScheduledExecutorService housekeeping =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "weir-conntrack-gc");
                t.setDaemon(true);
                return t;
            });
    /** How often expired conntrack entries are collected (the datapath also ignores them at lookup). */
    static final Duration CONNTRACK_GC_INTERVAL = Duration.ofSeconds(10);
    private dev.weir.agent.observer.AgentServers servers;
    private Heartbeat heartbeat;

    private Agent(AgentConfig config) throws Exception {
        this.config = config;
        this.datapath = Datapath.open(dev.weir.agent.datapath.NativeArtifacts.datapathObject(), config.pinRoot(),
                config.policyMapEntries());
        LOG.info("datapath {} under {}", datapath.adopted() ? "adopted" : "loaded", config.pinRoot());
        Map<String, Object> flowConfig = KafkaClients.producerConfig(config.kafka(), "weir-agent-flows-" + config.nodeName());
        // Never let a slow broker hold the publisher for long: a flow that cannot be buffered is counted lost.
        flowConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1000);
        flowConfig.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
        this.flowProducer = new KafkaProducer<>(flowConfig);
        Map<String, Object> stateConfig = KafkaClients.producerConfig(config.kafka(),
                "weir-agent-state-" + config.nodeName());
        // Sends happen under the endpoint manager's lock: a broker away must not hold it for a minute.
        // A record that cannot be sent is counted and sent again (EndpointManager.resend).
        stateConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000);
        this.stateProducer = new KafkaProducer<>(stateConfig);
        this.desiredState = new DesiredState(config.nodeName(), datapath, directory, cookies, stateProducer, catalogue);
        this.pods = new NodePods(config.nodeName());
        this.endpoints = new EndpointManager(config.nodeName(), datapath, directory, new AttachmentStore(config.stateDir()),
                pods, stateProducer, catalogue, desiredState::identityOf);
        this.cni = new CniHandler(endpoints, () -> ready, new StandaloneNetwork());
        desiredState.bind(endpoints);
        this.ring = new FlowRing(config.observerRing());
        this.metrics = new AgentMetrics(datapath, lost, dnsTracker, directory);
        datapath.resolvers(config.dns().resolvers());
        dev.weir.agent.dns.ResolvedNames names = new dev.weir.agent.dns.ResolvedNames(RESOLVED_NAMES);
        this.dnsObservations = new dev.weir.agent.dns.DnsObservations(config.nodeName(), new dev.weir.agent.dns.DnsAnswerGate(
                java.util.Set.copyOf(config.dns().resolvers()), Duration.ofSeconds(5), 65536, config.dns().maxTtlSeconds(),
                config.dns().maxAddresses()), names, stateProducer, catalogue);
        FlowBuilder builder = new FlowBuilder(config.nodeName(), directory, cookies, dnsTracker, new FlowBuilder.DnsListener() {
            @Override
            public void decoded(Dns dns, boolean owner) {
                if (owner) {
                    metrics.dns(dns);
                }
            }

            @Override
            public void malformed(String reason) {
                metrics.dnsMalformed();
            }
        }, names);
        this.pipeline = new FlowPipeline(datapath, builder, flowProducer, catalogue.name(TopicId.FLOWS), config.nodeName(),
                config.flowQueue(), ring, lost, new FlowPipeline.Listener() {
                    @Override
                    public void drained(int records) {
                        metrics.drained(records);
                    }

                    @Override
                    public void flow(Flow flow) {
                        metrics.flow(flow);
                        dnsObservations.observe(flow);
                    }
                });
    }

    /** Starts the agent: desired state replayed first (bounded wait), then the flow pipeline. */
    public static Agent start(AgentConfig config) throws Exception {
        Agent agent = new Agent(config);
        try {
            agent.begin();
            return agent;
        } catch (Exception e) {
            agent.close();
            throw e;
        }
    }

    private void begin() throws Exception {
        // weir-cni reaches the agent from the start, and is told to try again until it is ready.
        cniServer = CniServer.start(config.cniSocket(), cni::handle);
        this.<Pod>replay(TopicId.PODS, (record, pod) -> pods.accept(record.key(), pod));
        replay(TopicId.NODES, desiredState::onNode);
        replay(TopicId.IDENTITIES, desiredState::onIdentity);
        replay(TopicId.IPCACHE, desiredState::onIpcache);
        replay(TopicId.ENDPOINT_POLICY_STATE, desiredState::onPolicyState);
        this.<Endpoint>replay(TopicId.ENDPOINTS, (record, endpoint) -> directory.putEndpoint(record.key(), endpoint));
        for (ProtoConsumer<?> consumer : consumers) {
            if (!consumer.awaitCaughtUp(Duration.ofSeconds(30))) {
                LOG.warn("desired state not fully replayed after 30 s; going on, it converges as it arrives");
            }
        }
        pipeline.start();
        metrics.protections(desiredState, dnsObservations);
        metrics.consumers(consumers);
        metrics.loops(pipeline.loops());
        housekeeping.scheduleWithFixedDelay(this::collectConntrack, CONNTRACK_GC_INTERVAL.toMillis(),
                CONNTRACK_GC_INTERVAL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        int adopted = endpoints.adopt();
        if (adopted > 0) {
            LOG.info("adopted {} endpoints a previous run attached", adopted);
        }
        housekeeping.scheduleWithFixedDelay(this::removeVanished, CONNTRACK_GC_INTERVAL.toMillis(),
                CONNTRACK_GC_INTERVAL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        ready = true;
        dev.weir.agent.observer.ObserverService observer = new dev.weir.agent.observer.ObserverService(
                config.nodeName(), VERSION, ring, lost, () -> directory.locals().size(), metrics::policyMapPressureNow);
        servers = dev.weir.agent.observer.AgentServers.start(config.observerAddress(), config.metricsAddress(),
                config.tls(), config.apiTokens(), observer, metrics::scrape,
                () -> ready && cniServer.healthy() && pipeline.healthy() && consumers.stream().allMatch(ProtoConsumer::healthy));
        heartbeat = new Heartbeat(config.nodeName(), VERSION, stateProducer, catalogue.name(TopicId.NODE_STATUS),
                pipeline::read, lost::total, () -> directory.locals().size(), metrics::policyMapPressureNow);
        LOG.info("agent {} running: observer on {}, metrics on {}", config.nodeName(), servers.observerPort(),
                servers.metricsPort());
    }

    private void removeVanished() {
        try {
            endpoints.removeVanished();
            endpoints.resend();
        } catch (RuntimeException e) {
            LOG.warn("checking endpoint interfaces failed: {}", e.getMessage());
        }
    }

    private void collectConntrack() {
        try {
            Datapath.ConntrackSweep sweep = datapath.collectConntrack();
            metrics.conntrackSwept(sweep);
        } catch (RuntimeException e) {
            LOG.warn("conntrack garbage collection failed: {}", e.getMessage());
        }
    }

    private <M extends com.google.protobuf.Message> void replay(TopicId topic, ProtoConsumer.Handler<M> handler) {
        Map<String, Object> consumerConfig = KafkaClients.consumerConfig(config.kafka(),
                "weir-agent-" + config.nodeName());
        ProtoConsumer<M> consumer = ProtoConsumer.replaying(catalogue, topic, "weir-agent-" + config.nodeName(),
                new KafkaConsumer<>(consumerConfig), stateProducer, handler);
        consumers.add(consumer);
        Thread thread = new Thread(consumer, "weir-state-" + topic.catalogueId());
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    public EndpointManager endpoints() {
        return endpoints;
    }

    /** Whether weir-cni's calls are answered: desired state replayed, earlier attachments adopted. */
    public boolean ready() {
        return ready;
    }

    public CniHandler cni() {
        return cni;
    }

    public Datapath datapath() {
        return datapath;
    }

    public FlowPipeline pipeline() {
        return pipeline;
    }

    public FlowRing ring() {
        return ring;
    }

    public LostEvents lost() {
        return lost;
    }

    public DesiredState desiredState() {
        return desiredState;
    }

    public dev.weir.agent.dns.DnsObservations dnsObservations() {
        return dnsObservations;
    }

    public AgentMetrics metrics() {
        return metrics;
    }

    public AgentConfig config() {
        return config;
    }

    public int observerPort() {
        return servers.observerPort();
    }

    public int metricsPort() {
        return servers.metricsPort();
    }

    @Override
    public void close() {
        ready = false;
        if (cniServer != null) {
            cniServer.close();
        }
        if (heartbeat != null) {
            heartbeat.close();
        }
        if (servers != null) {
            servers.close();
        }
        housekeeping.shutdownNow();
        pipeline.close();
        dnsObservations.close();
        consumers.forEach(ProtoConsumer::close);
        for (Thread thread : threads) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        endpoints.close();
        flowProducer.close(Duration.ofSeconds(5));
        stateProducer.close(Duration.ofSeconds(5));
        // The datapath handle closes; pinned maps and attached programs stay and keep enforcing.
        datapath.close();
    }

    public static void main(String[] args) throws Exception {
        Agent agent = start(AgentConfig.fromEnvironment(System.getenv()));
        // One line for whoever started us (scripts, tests): the agent is up.
        System.out.println("weir-agent: running node " + agent.config().nodeName() + " observer " + agent.observerPort()
                + " metrics " + agent.metricsPort());
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stopped.countDown();
        }, "weir-agent-shutdown"));
        stopped.await();
    }
}
