package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.DnsNodeState;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The DNS analytics as a Kafka Streams topology:
 * <pre>
 * flows ─decode─┬─ undecodable ─────────────────────────────▶ dead-letter
 *               └─ DNS events ─ ClientAnalyzer ─┬─ insights ───────────────────▶ dns-insights
 *                                               ├─ stats ──────────────────────▶ dns-stats
 *                                               └─ stats by node ─ NodeAnalyzer ─▶ dns-insights
 * </pre>
 * One sub-topology, no repartition topic: flows are keyed by node and a client's DNS is observed
 * (client side) on the client's own node, so a task holds every event of its clients and every
 * client of its nodes. (A query dropped by an ingress policy at the DNS server is observed on the
 * server's node: such a client's drops are counted by that node's task, in a window of their own.)
 * The state of each client and node lives in changelogged stores: with exactly-once processing a
 * task that moves to another instance, or restarts, continues from the last committed state and
 * offsets, counting nothing twice.
 */
public final class DnsTopology {

    public static final String GROUP = "weir-dns";
    /**
     * Where a partition with no committed offset starts (a first deployment): the flows of the
     * last minutes, not the topic's whole retention (days of backlog would land in today's windows),
     * and not only what arrives from now on (an instance joining late would skip what came before).
     */
    static final java.time.Duration FIRST_START_LOOKBACK = java.time.Duration.ofMinutes(5);

    private DnsTopology() {
    }

    public static Topology build(TopicCatalogue catalogue, DnsSettings settings) {
        return build(catalogue, settings, DecodedStore.MAX_DECODED);
    }

    /** The topology, keeping at most {@code maxDecoded} clients' states decoded per task. */
    static Topology build(TopicCatalogue catalogue, DnsSettings settings, int maxDecoded) {
        Serializer<DnsInsight> insights = new ProtoSerde<>(DnsInsight.parser()).serializer();
        Serializer<DnsClientStats> stats = new ProtoSerde<>(DnsClientStats.parser()).serializer();
        // The Processor API, each record forwarded by name to the node that takes it: every hop of a
        // DSL split or mapValues costs a record context per event, and these are millions a minute.
        Topology topology = new Topology();
        // The flows' key (the node) is not read: kept as bytes for the dead letters, never decoded.
        topology.addSource(AutoOffsetReset.byDuration(FIRST_START_LOOKBACK), SOURCE, new ByteArrayDeserializer(),
                new ByteArrayDeserializer(), catalogue.name(TopicId.FLOWS));
        topology.addProcessor(FlowToDnsEvent.NAME, () -> new FlowToDnsEvent(GROUP), SOURCE);
        topology.addSink(FlowToDnsEvent.DEAD_LETTERS, catalogue.name(TopicId.DEAD_LETTER), new ByteArraySerializer(),
                new ByteArraySerializer(), FlowToDnsEvent.NAME);
        // No repartition: flows are keyed by node, and a client's DNS is observed on its own node,
        // so each client's events (and each node's clients) are already in one partition.
        topology.addProcessor(ClientAnalyzer.NAME, () -> new ClientAnalyzer(settings), FlowToDnsEvent.NAME);
        // A client's state is kept decoded and written to its changelog once per commit, not per event.
        topology.addStateStore(ClientAnalyzer.store(maxDecoded), ClientAnalyzer.NAME);
        topology.addSink(ClientAnalyzer.INSIGHTS, catalogue.name(TopicId.DNS_INSIGHTS), new StringSerializer(), insights,
                ClientAnalyzer.NAME);
        topology.addSink(ClientAnalyzer.STATS, catalogue.name(TopicId.DNS_STATS), new StringSerializer(), stats,
                ClientAnalyzer.NAME);
        topology.addProcessor(NodeAnalyzer.NAME, () -> new NodeAnalyzer(settings), ClientAnalyzer.NAME);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(NodeAnalyzer.STORE),
                Serdes.String(), new ProtoSerde<>(DnsNodeState.parser())).withCachingEnabled(), NodeAnalyzer.NAME);
        topology.addSink(NodeAnalyzer.INSIGHTS, catalogue.name(TopicId.DNS_INSIGHTS), new StringSerializer(), insights,
                NodeAnalyzer.NAME);
        return topology;
    }

    private static final String SOURCE = "flows";
}
