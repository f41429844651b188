package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.dns.v1.DnsInsight;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Per client (the stream is keyed by client): counts, pairs and judges each DNS event in the
 * client's state, kept decoded between events and changelogged before each commit, so that a
 * restarted or moved task resumes where the last committed transaction left it. Each second of
 * wall-clock time, every client's state moves on: unanswered queries expire, finished windows are
 * published, quiet findings resolve. Forwards {@link DnsInsight}s and {@link DnsClientStats},
 * keyed by client.
 */
final class ClientAnalyzer extends ContextualProcessor<String, DnsEvent, String, Object> {

    static final String NAME = "analyze-clients";
    static final String STORE = "dns-clients";
    /** The children: insights, windows, and the windows again keyed by node for the node's analysis. */
    static final String INSIGHTS = "client-insights";
    static final String STATS = "client-stats";
    /** A client with no window, nothing pending and no finding is forgotten after this long. */
    private static final long FORGET_AFTER_MS = Duration.ofMinutes(10).toMillis();

    private final DnsSettings settings;
    /** The key and time of the event being handled, for what it outputs (one sink, not one per event). */
    private String eventKey;
    private long eventTimestamp;
    private final java.util.function.Consumer<Object> toEventsKey = o -> output(eventKey, o, eventTimestamp);
    private DecodedStore<DnsClientState, ClientState> clients;

    ClientAnalyzer(DnsSettings settings) {
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        super.init(context);
        clients = context.getStateStore(STORE);
        clients.decodeWith((key, stored) -> new ClientState(key, stored, settings));
        context.schedule(Duration.ofSeconds(1), PunctuationType.WALL_CLOCK_TIME, this::tick);
    }

    /** The clients' store, used decoded: a client's state is encoded once per commit, not per event. */
    static org.apache.kafka.streams.state.StoreBuilder<DecodedStore<DnsClientState, ClientState>> store(int maxDecoded) {
        return DecodedStore.builder(STORE, new ProtoSerde<>(DnsClientState.parser()), ClientState::build, maxDecoded);
    }

    @Override
    public void process(Record<String, DnsEvent> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        String key = record.key();
        ClientState client = clients.get(key);
        clients.changed(key); // before any change: a change half made is still written
        eventKey = key;
        eventTimestamp = record.timestamp();
        client.on(record.value(), toEventsKey);
    }

    /** An insight, or a closed window: published, and a window also to its node's analysis. */
    private void output(String key, Object output, long timestamp) {
        if (output instanceof DnsClientStats window) {
            context().forward(new Record<>(key, output, timestamp), STATS);
            if (!window.getNodeName().isEmpty()) {
                context().forward(new Record<>(window.getNodeName(), output, timestamp), NodeAnalyzer.NAME);
            }
        } else {
            context().forward(new Record<>(key, output, timestamp), INSIGHTS);
        }
    }

    private void tick(long now) {
        List<String> forgotten = new ArrayList<>();
        clients.forEach((key, client) -> {
            if (client.advance(now, o -> output(key, o, now))) {
                clients.changed(key);
            }
            if (client.idleSince(now, FORGET_AFTER_MS)) {
                forgotten.add(key);
            }
        });
        forgotten.forEach(clients::delete);
    }
}
