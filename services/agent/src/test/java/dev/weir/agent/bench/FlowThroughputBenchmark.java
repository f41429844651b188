package dev.weir.agent.bench;

import dev.weir.agent.AgentProcess;
import dev.weir.agent.TestFrames;
import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Flows per second from the ring buffer through the agent to Kafka, against Kafka's own
 * ProducerPerformance with records of the same size on the same broker, in one run (root), both
 * beside the same load generator (it takes the same core from each).
 *
 * <p>The agent runs as its own process, as on a node. The load is the datapath itself: this
 * process adopts the agent's pinned maps and runs the ingress program with BPF_PROG_RUN on a
 * frame the endpoint denies, so every repetition is a decided packet and a drop event in the
 * agent's ring buffer. Bounded: seconds of load as given (default 20).
 *
 * <p>With a rate, the load is paced to that many flows per second (to measure the agent's memory
 * at a node's rate rather than at its limit), and the agent runs with the JVM flags of its
 * DaemonSet image ({@link #DAEMONSET_JVM}); without, as fast as it goes with a roomy heap.
 *
 * <p>usage: FlowThroughputBenchmark [seconds] [flows per second, 0 for as fast as it goes]
 * [daemonset|roomy: the agent's JVM flags, daemonset when paced]
 */
public final class FlowThroughputBenchmark {

    /** The agent image's JVM flags (services/agent/pom.xml, jib jvmFlags): a DaemonSet-sized process. */
    static final List<String> DAEMONSET_JVM = List.of("-Xms64m", "-Xmx160m", "-XX:+UseSerialGC",
            "-XX:MaxMetaspaceSize=96m", "-XX:ReservedCodeCacheSize=48m", "-XX:MaxDirectMemorySize=32m", "-Xss512k");

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        long rate = args.length > 1 ? Long.parseLong(args[1]) : 0;
        boolean daemonset = args.length > 2 ? args[2].equals("daemonset") : rate > 0;
        // To try other flags for the image: -Dweir.bench.daemonset-jvm="-Xmx160m -XX:+UseParallelGC ..."
        List<String> daemonsetJvm = System.getProperty("weir.bench.daemonset-jvm") == null ? DAEMONSET_JVM
                : List.of(System.getProperty("weir.bench.daemonset-jvm").trim().split("\\s+"));
        String node = "bench";
        Path pins = Path.of("/sys/fs/bpf/weir-bench");
        Path dir = Path.of("target", "bench-" + UUID.randomUUID()).toAbsolutePath();
        new ProcessBuilder("rm", "-rf", pins.toString()).start().waitFor();
        try (Platform platform = new Platform(PlatformConfig.onFreePorts(dir)).start()) {
            String topic = TopicCatalogue.standard().name(TopicId.FLOWS);
            Process agent = daemonset ? AgentProcess.start(platform, node, pins, dir.resolve("agent.log"), daemonsetJvm)
                    : AgentProcess.start(platform, node, pins, dir.resolve("agent.log"));
            System.out.println("agent JVM: " + (daemonset ? String.join(" ", daemonsetJvm) : "-Xmx512m -XX:+UseParallelGC"));
            try (Datapath datapath = Datapath.open(pins)) {
                datapath.register(1, new dev.weir.agent.datapath.EndpointEntry(999, 5000, MapLayout.EP_INGRESS_ISOLATED, 1, 0, null, null));
                ByteBuffer frame = TestFrames.udp("198.19.250.1", "198.19.250.2", 40000, 7000, 64);
                AtomicBoolean running = new AtomicBoolean(true);
                AtomicLong generated = new AtomicLong();
                Thread load = new Thread(() -> {
                    long begun = System.nanoTime();
                    // Bounded: the measurement, and the baseline that runs beside the same load.
                    long deadline = begun + Duration.ofSeconds(seconds + 300).toNanos();
                    while (running.get() && System.nanoTime() < deadline) {
                        datapath.testRun(true, frame, frame.capacity(), 1, 2048);
                        long sent = generated.addAndGet(2048);
                        if (rate > 0) {
                            long due = begun + sent * 1_000_000_000L / rate;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                java.util.concurrent.locks.LockSupport.parkNanos(wait);
                            }
                        }
                    }
                }, "load");
                load.start();
                Thread.sleep(5_000); // warm-up
                long startRecords = records(platform.kafkaBootstrapServers(), topic);
                long startNs = System.nanoTime();
                long startLost = datapath.eventsLost();
                long startGenerated = generated.get();
                long maxRssKb = 0;
                for (int i = 0; i < seconds * 4; i++) {
                    Thread.sleep(250);
                    maxRssKb = Math.max(maxRssKb, Long.parseLong(status(agent.pid(), "VmRSS").replace(" kB", "").trim()));
                }
                long agentRecords = records(platform.kafkaBootstrapServers(), topic) - startRecords;
                double elapsed = (System.nanoTime() - startNs) / 1e9;
                long ringLost = datapath.eventsLost() - startLost;
                long offered = generated.get() - startGenerated;
                String rss = status(agent.pid(), "VmRSS");
                String heap = heap(agent.pid());
                int recordSize = averageRecordSize(platform.kafkaBootstrapServers(), topic);
                double agentRate = agentRecords / elapsed;
                System.out.printf("agent: %.0f flows/s to Kafka (%d in %.1f s); datapath offered %.0f events/s, "
                        + "%.0f/s lost to a full ring buffer; average flow record %d bytes%n",
                        agentRate, agentRecords, elapsed, offered / elapsed, ringLost / elapsed, recordSize);
                System.out.printf("agent process at that rate: RSS %s (at most %d MiB while measured), heap %s%n", rss,
                        maxRssKb / 1024, heap);
                if (rate > 0) {
                    // Paced: the raw producer's limit says nothing about a paced run.
                    running.set(false);
                    load.join();
                    return;
                }

                agent.destroy();
                agent.waitFor(30, TimeUnit.SECONDS);
                // Fair: the baseline runs beside the same load generator, which keeps its core
                // (its events now go to a ring buffer nobody drains, and are counted lost).
                long baselineRecords = Math.max(1_000_000, agentRecords);
                // Over the same listener as the agent: TLS with a client certificate (the agent's own).
                double rawRate = producerPerformance(platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT).bootstrapServers(),
                        platform.kafkaPropertiesFile("weir-agent"), topic, baselineRecords, recordSize);
                running.set(false);
                load.join();
                System.out.printf("kafka ProducerPerformance: %.0f records/s of %d bytes (%d records)%n", rawRate, recordSize,
                        baselineRecords);
                System.out.printf("ratio agent / raw producer: %.2f%n", agentRate / rawRate);
            } finally {
                agent.destroyForcibly();
                new ProcessBuilder("rm", "-rf", pins.toString(), AgentProcess.stateDir(node).toString()).start().waitFor();
            }
        }
    }

    static long records(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(bootstrap, "bench-" + UUID.randomUUID()))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    static int averageRecordSize(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.consumerConfig(bootstrap, "bench-size-" + UUID.randomUUID()))) {
            consumer.subscribe(List.of(topic));
            long bytes = 0;
            int n = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (n < 10_000 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    bytes += r.value().length;
                    n++;
                }
            }
            return n == 0 ? 0 : (int) (bytes / n);
        }
    }

    static double producerPerformance(String bootstrap, Path clientProperties, String topic, long records, int size)
            throws Exception {
        Process perf = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), "org.apache.kafka.tools.ProducerPerformance",
                "--topic", topic, "--num-records", Long.toString(records), "--record-size", Integer.toString(size),
                "--throughput", "-1", "--producer-props", "bootstrap.servers=" + bootstrap, "acks=all",
                "enable.idempotence=true", "compression.type=lz4", "linger.ms=5", "batch.size=262144",
                "buffer.memory=67108864", "--producer.config", clientProperties.toString()).redirectErrorStream(true).start();
        String out = new String(perf.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        perf.waitFor(300, TimeUnit.SECONDS);
        String last = out.lines().filter(l -> l.contains("records sent")).reduce((a, b) -> b).orElseThrow(
                () -> new IOException("ProducerPerformance printed no result:\n" + out));
        // "1000000 records sent, 512345.6 records/sec (...)"
        return Double.parseDouble(last.split(",")[1].trim().split(" ")[0]);
    }

    static String status(long pid, String field) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith(field + ":")).map(l -> l.substring(field.length() + 1).trim()).findFirst()
                .orElse("?");
    }

    static String heap(long pid) throws Exception {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.heap_info").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        jcmd.waitFor(30, TimeUnit.SECONDS);
        return out.lines().filter(l -> l.contains("total") && l.contains("used")).findFirst().orElse("?").trim();
    }
}
