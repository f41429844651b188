package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.datapath.MapLayout;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.observer.v1.LostEventSource;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The broker stops for 20 seconds while the datapath emits flows: the datapath keeps deciding
 * (every packet still dropped), the agent keeps draining, and afterwards every flow the datapath
 * emitted is either in Kafka or counted lost, once. Root only.
 *
 * <p>The load is the datapath itself, run with BPF_PROG_RUN on a frame from an identity the
 * endpoint does not allow: each repetition is a decided packet and a drop event, as on a wire.
 */
class BrokerOutageIT {

    static final int REPEAT = 200;
    static final int EVENTS_PER_SECOND = 10_000;

    @Test
    void flowsDeliveredPlusFlowsCountedLostEqualFlowsEmitted() throws Exception {
        String node = "bo" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        Path pins = Path.of("/sys/fs/bpf/weir-" + node);
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath()))
                .start()) {
            Agent agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), pins, platform.apiToken()));
            try {
                agent.datapath().register(1, new dev.weir.agent.datapath.EndpointEntry(999, 5000, MapLayout.EP_INGRESS_ISOLATED, 1, 0, null, null));
                ByteBuffer frame = TestFrames.udp("198.19.250.1", "198.19.250.2", 40000, 7000, 64);
                AtomicLong generated = new AtomicLong();
                AtomicLong passed = new AtomicLong();
                Thread load = new Thread(() -> {
                    long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
                    long interval = 1_000_000_000L * REPEAT / EVENTS_PER_SECOND;
                    long next = System.nanoTime();
                    while (!Thread.currentThread().isInterrupted() && System.nanoTime() < deadline) {
                        if (agent.datapath().testRun(true, frame, frame.capacity(), 1, REPEAT) != 2) {
                            passed.incrementAndGet();
                        }
                        generated.addAndGet(REPEAT);
                        next += interval;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            try {
                                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                }, "load");
                load.start();
                Thread.sleep(5_000);
                platform.stopKafka();
                Thread.sleep(20_000);
                platform.startKafka();
                Thread.sleep(5_000);
                load.interrupt();
                load.join();

                assertThat(passed.get()).as("runs in which the datapath let the denied packet pass").isZero();
                // Everything the producer still holds is delivered or expires within its delivery timeout.
                await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(500))
                        .until(() -> agent.pipeline().pending() == 0
                                && agent.pipeline().read() + agent.lost().get(LostEventSource.DATAPATH_RING_BUFFER)
                                        == generated.get());
                long delivered = agent.pipeline().delivered();
                long lost = agent.lost().total();
                System.out.printf("outage: %d emitted, %d delivered, lost %s%n", generated.get(), delivered,
                        agent.lost().snapshot());
                assertThat(delivered + lost).as("delivered %d + lost %s", delivered, agent.lost().snapshot())
                        .isEqualTo(generated.get());
                assertThat(delivered).isPositive();
                assertThat(recordsInKafka(platform.kafkaBootstrapServers())).isEqualTo(delivered);
            } finally {
                agent.close();
                new ProcessBuilder("rm", "-rf", pins.toString(), "/run/weir/nodes/" + node).start().waitFor();
            }
        }
    }

    private static long recordsInKafka(String bootstrap) {
        String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(bootstrap, "outage-" + UUID.randomUUID()))) {
            var partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> start = consumer.beginningOffsets(partitions);
            return partitions.stream().mapToLong(p -> end.get(p) - start.get(p)).sum();
        }
    }
}
