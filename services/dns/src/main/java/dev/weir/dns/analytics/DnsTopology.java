package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.DnsNodeState;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.AutoOffsetReset;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The DNS analytics as a Kafka Streams topology:
 * <pre>
 * flows ─decode─┬─ undecodable ─────────────────────────▶ dead-letter
 *               └─ DNS events ─ ClientAnalyzer ─┬─ insights ───────────────▶ dns-insights
 *                                               └─ stats ─┬────────────────▶ dns-stats
 *                                                         └─ NodeAnalyzer ─▶ dns-insights
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
        ProtoSerde<DnsClientStats> stats = new ProtoSerde<>(DnsClientStats.parser());
        ProtoSerde<DnsInsight> insights = new ProtoSerde<>(DnsInsight.parser());
        StreamsBuilder builder = new StreamsBuilder();
        // A client's state is kept decoded and written to its changelog once per commit, not per event.
        builder.addStateStore(ClientAnalyzer.store(maxDecoded));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(NodeAnalyzer.STORE),
                Serdes.String(), new ProtoSerde<>(DnsNodeState.parser())).withCachingEnabled());

        KStream<String, Object> decoded = builder
                .stream(catalogue.name(TopicId.FLOWS), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("flows")
                        .withOffsetResetPolicy(AutoOffsetReset.byDuration(FIRST_START_LOOKBACK)))
                .process(() -> new FlowToDnsEvent(GROUP), Named.as("decode-flows"));
        Map<String, KStream<String, Object>> byKind = decoded.split(Named.as("flow-"))
                .branch((k, v) -> v instanceof DnsEvent, Branched.as("dns"))
                .defaultBranch(Branched.as("undecodable"));
        byKind.get("flow-undecodable").mapValues(v -> ((FlowToDnsEvent.Undecodable) v).bytes())
                .to(catalogue.name(TopicId.DEAD_LETTER), Produced.with(Serdes.String(), Serdes.ByteArray()));

        // No repartition: flows are keyed by node, and a client's DNS is observed on its own node,
        // so each client's events (and each node's clients) are already in one partition.
        KStream<String, Object> analyzed = byKind.get("flow-dns").mapValues(v -> (DnsEvent) v)
                .process(() -> new ClientAnalyzer(settings), Named.as("analyze-clients"), ClientAnalyzer.STORE);
        Map<String, KStream<String, Object>> outputs = analyzed.split(Named.as("client-"))
                .branch((k, v) -> v instanceof DnsInsight, Branched.as("insights"))
                .defaultBranch(Branched.as("stats"));
        outputs.get("client-insights").mapValues(v -> (DnsInsight) v)
                .to(catalogue.name(TopicId.DNS_INSIGHTS), Produced.with(Serdes.String(), insights));
        KStream<String, DnsClientStats> windows = outputs.get("client-stats").mapValues(v -> (DnsClientStats) v);
        windows.to(catalogue.name(TopicId.DNS_STATS), Produced.with(Serdes.String(), stats));

        windows.filter((k, v) -> !v.getNodeName().isEmpty())
                .selectKey((k, v) -> v.getNodeName())
                .process(NodeAnalyzer::new, Named.as("analyze-nodes"), NodeAnalyzer.STORE)
                .mapValues(v -> (DnsInsight) v)
                .to(catalogue.name(TopicId.DNS_INSIGHTS), Produced.with(Serdes.String(), insights));
        return builder.build();
    }
}
