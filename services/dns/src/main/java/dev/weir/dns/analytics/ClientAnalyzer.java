package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.DnsInsight;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Per client (the stream is keyed by client): counts, pairs and judges each DNS event in the
 * client's state, kept in a changelogged store so that a restarted or moved task resumes where
 * the last committed transaction left it. Each second of wall-clock time, every client's state
 * moves on: unanswered queries expire, finished windows are published, quiet findings resolve.
 * Forwards {@link DnsInsight}s and {@link DnsClientStats}, keyed by client.
 */
final class ClientAnalyzer extends ContextualProcessor<String, DnsEvent, String, Object> {

    static final String STORE = "dns-clients";
    /** A client with no window, nothing pending and no finding is forgotten after this long. */
    private static final long FORGET_AFTER_MS = Duration.ofMinutes(10).toMillis();

    private final DnsSettings settings;
    private KeyValueStore<String, DnsClientState> store;
    private WindowNames names;

    ClientAnalyzer(DnsSettings settings) {
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        super.init(context);
        store = context.getStateStore(STORE);
        names = new WindowNames(context.getStateStore(WindowNames.STORE));
        context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::tick);
    }

    @Override
    public void process(Record<String, DnsEvent> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        List<Object> out = new ArrayList<>(2);
        ClientState client = new ClientState(record.key(), store.get(record.key()), settings, names, out::add, out::add);
        client.on(record.value());
        store.put(record.key(), client.build());
        emit(record.key(), out, record.timestamp());
    }

    private void tick(long now) {
        List<KeyValue<String, DnsClientState>> changed = new ArrayList<>();
        List<String> forgotten = new ArrayList<>();
        try (KeyValueIterator<String, DnsClientState> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<String, DnsClientState> entry = all.next();
                List<Object> out = new ArrayList<>(2);
                ClientState client = new ClientState(entry.key, entry.value, settings, names, out::add, out::add);
                client.advance(now);
                DnsClientState after = client.build();
                if (client.idleSince(now, FORGET_AFTER_MS)) {
                    forgotten.add(entry.key);
                } else if (!after.equals(entry.value)) {
                    changed.add(KeyValue.pair(entry.key, after));
                }
                emit(entry.key, out, now);
            }
        }
        changed.forEach(kv -> store.put(kv.key, kv.value));
        forgotten.forEach(store::delete);
    }

    private void emit(String key, List<Object> out, long timestamp) {
        for (Object o : out) {
            context().forward(new Record<>(key, o, timestamp));
        }
    }
}
