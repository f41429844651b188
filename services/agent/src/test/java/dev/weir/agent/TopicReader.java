package dev.weir.agent;

import dev.weir.common.kafka.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/** Reads a topic from the beginning in the background and keeps the records, for assertions. */
final class TopicReader implements AutoCloseable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;

    TopicReader(String bootstrap, String topic) {
        consumer = new KafkaConsumer<>(KafkaClients.consumerConfig(bootstrap, "it-reader-" + UUID.randomUUID()));
        consumer.subscribe(List.of(topic));
        thread = new Thread(() -> {
            while (running) {
                var polled = consumer.poll(Duration.ofMillis(100));
                synchronized (records) {
                    polled.forEach(records::add);
                }
            }
            consumer.close();
        }, "it-reader-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    List<ConsumerRecord<String, byte[]>> matching(Predicate<ConsumerRecord<String, byte[]>> filter) {
        synchronized (records) {
            return records.stream().filter(filter).toList();
        }
    }

    int size() {
        synchronized (records) {
            return records.size();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
