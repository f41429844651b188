package dev.weir.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A consumer loop is supervised: a failure (a broker error, a topic not there yet) never ends it;
 * it is counted, the loop is unhealthy while it waits, and it goes on where its work was done.
 */
class ProtoConsumerSupervisionTest {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static final String TOPIC = CATALOGUE.name(TopicId.IPCACHE);

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s");
            }
            Thread.sleep(10);
        }
    }

    static ConsumerRecord<String, byte[]> record(long offset, String prefix) {
        return new ConsumerRecord<>(TOPIC, 0, offset, prefix,
                IpcacheEntry.newBuilder().setPrefix(prefix).setIdentity(300).build().toByteArray());
    }

    @Test
    void aReplayWaitsForItsTopicAndGoesOnAfterAPollFailure() throws Exception {
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        MockProducer<String, byte[]> deadLetters = new MockProducer<>(true, null, new StringSerializer(),
                new ByteArraySerializer());
        List<String> handled = new CopyOnWriteArrayList<>();
        ProtoConsumer<IpcacheEntry> replay = ProtoConsumer.replaying(CATALOGUE, TopicId.IPCACHE, "test", consumer,
                deadLetters, (r, v) -> handled.add(r.key()));
        Thread loop = new Thread(replay);
        loop.start();
        try {
            // The topic is not there: the replay does not call itself caught up, and says why.
            waitFor(() -> replay.restarts() >= 1);
            assertThat(replay.caughtUp()).isFalse();
            assertThat(replay.healthy()).isFalse();
            assertThat(replay.lastFailure()).contains("does not exist");

            TopicPartition partition = new TopicPartition(TOPIC, 0);
            consumer.updatePartitions(TOPIC, List.of(new PartitionInfo(TOPIC, 0, Node.noNode(), new Node[0], new Node[0])));
            consumer.updateBeginningOffsets(Map.of(partition, 0L));
            consumer.updateEndOffsets(Map.of(partition, 2L));
            consumer.schedulePollTask(() -> {
                consumer.addRecord(record(0, "198.18.0.1/32"));
                consumer.addRecord(record(1, "198.18.0.2/32"));
            });
            waitFor(replay::caughtUp);
            assertThat(handled).containsExactly("198.18.0.1/32", "198.18.0.2/32");
            assertThat(replay.healthy()).isTrue();

            long before = replay.restarts();
            consumer.setPollException(new KafkaException("broker away"));
            waitFor(() -> replay.restarts() > before);
            consumer.schedulePollTask(() -> consumer.addRecord(record(2, "198.18.0.3/32")));
            waitFor(() -> handled.size() == 3);
            assertThat(handled.get(2)).isEqualTo("198.18.0.3/32");
            waitFor(replay::healthy);
        } finally {
            replay.close();
            loop.join(10_000);
        }
        assertThat(loop.isAlive()).isFalse();
    }
}
