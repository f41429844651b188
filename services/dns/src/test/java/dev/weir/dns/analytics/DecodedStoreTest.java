package dev.weir.dns.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * A client's state is kept decoded between events and must still reach its changelogged store by
 * every commit: on the real topology, the stored record after each input equals the decoded state,
 * and a state decoded again from the store goes on exactly as the one kept in memory.
 */
class DecodedStoreTest {

    private static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    private static final long T0 = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();

    @Test
    @SuppressWarnings("unchecked")
    void everyCommitWritesTheDecodedStateAndAStateDecodedFromItGoesOnTheSame() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, DnsTopology.GROUP);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try (TopologyTestDriver driver = new TopologyTestDriver(DnsTopology.build(CATALOGUE, DnsSettings.DEFAULTS), props,
                Instant.ofEpochMilli(T0))) {
            TestInputTopic<String, byte[]> flows = driver.createInputTopic(CATALOGUE.name(TopicId.FLOWS),
                    Serdes.String().serializer(), Serdes.ByteArray().serializer());
            DnsFlows pod = new DnsFlows("node-1", "shop", "cart-1", "198.18.1.20");
            DecodedStore<DnsClientState, ClientState> store =
                    (DecodedStore<DnsClientState, ClientState>) driver.getStateStore(ClientAnalyzer.STORE);
            String key = "shop/cart-1";
            for (int id = 1; id <= 5; id++) {
                var query = pod.query(T0 + id, id, "A", "api.payments.svc.cluster.local.");
                flows.pipeInput(new TestRecord<>("node-1", query.toByteArray(), Instant.ofEpochMilli(T0 + id)));
                // The driver commits after each input: the store holds what the decoded state holds.
                assertThat(store.wrapped().get(key)).isEqualTo(store.get(key).build());
                var answer = pod.response(T0 + id + 2, id, "A", "api.payments.svc.cluster.local.", id == 3 ? 3 : 0, 2);
                flows.pipeInput(new TestRecord<>("node-1", answer.toByteArray(), Instant.ofEpochMilli(T0 + id + 2)));
                assertThat(store.wrapped().get(key)).isEqualTo(store.get(key).build());
            }
            DnsClientState committed = store.wrapped().get(key);
            assertThat(committed.getWindow().getQueries()).isEqualTo(5);
            assertThat(committed.getAskedNamesMap()).containsEntry("api.payments.svc.cluster.local.", 5L);

            // What a task restored from the changelog would decode, against the state kept in memory.
            ClientState restored = new ClientState(key, committed, DnsSettings.DEFAULTS);
            java.util.List<Object> fromRestored = new java.util.ArrayList<>();
            java.util.List<Object> fromMemory = new java.util.ArrayList<>();
            long later = T0 + Duration.ofSeconds(11).toMillis();
            restored.advance(later, fromRestored::add);
            store.get(key).advance(later, fromMemory::add);
            assertThat(fromRestored).isEqualTo(fromMemory).hasSize(1);
            DnsClientStats window = (DnsClientStats) fromRestored.get(0);
            assertThat(window.getQueries()).isEqualTo(5);
            assertThat(window.getResponsesMap()).containsEntry("NOERROR", 4L).containsEntry("NXDOMAIN", 1L);
            assertThat(restored.build()).isEqualTo(store.get(key).build());
        }
    }

    @Test
    void pastTheBoundClientsAreDecodedForTheTickOnlyAndNothingIsLostOrPublishedTwice() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, DnsTopology.GROUP);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        // Two decoded at most, seven clients: evictions while processing, transient decodes in the tick.
        try (TopologyTestDriver driver = new TopologyTestDriver(DnsTopology.build(CATALOGUE, DnsSettings.DEFAULTS, 2), props,
                Instant.ofEpochMilli(T0))) {
            TestInputTopic<String, byte[]> flows = driver.createInputTopic(CATALOGUE.name(TopicId.FLOWS),
                    Serdes.String().serializer(), Serdes.ByteArray().serializer());
            var stats = driver.createOutputTopic(CATALOGUE.name(TopicId.DNS_STATS), Serdes.String().deserializer(),
                    new ProtoSerde<>(DnsClientStats.parser()).deserializer());
            for (int round = 0; round < 3; round++) {
                for (int c = 0; c < 7; c++) {
                    DnsFlows pod = new DnsFlows("node-1", "shop", "pod-" + c, "198.18.2." + (c + 1));
                    int id = round * 10 + c;
                    flows.pipeInput(new TestRecord<>("node-1", pod.query(T0 + round, id, "A", "cart.shop.svc.cluster.local.")
                            .toByteArray(), Instant.ofEpochMilli(T0 + round)));
                    flows.pipeInput(new TestRecord<>("node-1", pod.response(T0 + round + 1, id, "A",
                            "cart.shop.svc.cluster.local.", 0, 1).toByteArray(), Instant.ofEpochMilli(T0 + round + 1)));
                }
            }
            driver.advanceWallClockTime(Duration.ofSeconds(11));
            java.util.Map<String, Long> queries = new java.util.TreeMap<>();
            stats.readKeyValuesToList().forEach(kv -> queries.merge(kv.key, kv.value.getQueries(), Long::sum));
            assertThat(queries).hasSize(7).allSatisfy((client, n) -> assertThat(n).as(client).isEqualTo(3));
            driver.advanceWallClockTime(Duration.ofSeconds(11));
            assertThat(stats.readKeyValuesToList()).as("each window published once").isEmpty();
            @SuppressWarnings("unchecked")
            DecodedStore<DnsClientState, ClientState> store =
                    (DecodedStore<DnsClientState, ClientState>) driver.getStateStore(ClientAnalyzer.STORE);
            for (int c = 0; c < 7; c++) {
                assertThat(store.wrapped().get("shop/pod-" + c).hasWindow()).as("pod-" + c + "'s window closed").isFalse();
            }
        }
    }
}
