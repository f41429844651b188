package dev.weir.dns.analytics;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * A changelogged key-value store whose values a processor works on decoded, as mutable objects
 * kept between events, instead of reading and writing each one through its serde on every event
 * (that was most of the DNS analytics' time). Changed objects are encoded into the store when
 * Kafka Streams flushes its caches, which it does before every commit: the changelog records and
 * the input offsets still commit in one transaction, and a task restored from the changelog
 * decodes what was committed. A task closed dirty or re-initialised drops what it had decoded.
 *
 * <p>Streams calls {@code flushCache()} only on its own store layers, so this extends
 * {@link WrappedStateStore}; the Kafka version is pinned and {@code DecodedStoreTest} checks the
 * hook on the real commit path of the test driver. Streams flushes stores in the order they were
 * registered: no caching store with a flush listener may feed this store's processor from
 * upstream in the same sub-topology (its flush would send records after this one's). Interactive
 * queries would read the encoded layer, behind the decoded values: none are offered.
 *
 * @param <V> the stored (encoded) value
 * @param <M> the decoded, mutable value
 */
final class DecodedStore<V, M> extends WrappedStateStore<KeyValueStore<String, V>, String, V> {

    /**
     * Decoded values kept at most, per task; the least recently used beyond are written back and
     * dropped. (A client's state is a few KB at most; the encoded store holds every one anyway.)
     */
    static final int MAX_DECODED = 10_000;

    private final Function<M, V> encode;
    private final int maxDecoded;
    private java.util.function.BiFunction<String, V, M> decode;
    private final Map<String, M> decoded = new LinkedHashMap<>(1024, 0.75f, true);
    private final Set<String> changed = new HashSet<>();

    private DecodedStore(KeyValueStore<String, V> inner, Function<M, V> encode, int maxDecoded) {
        super(inner);
        this.encode = encode;
        this.maxDecoded = maxDecoded;
    }

    /** How the processor decodes a key's stored value (null when there is none). */
    void decodeWith(java.util.function.BiFunction<String, V, M> decoder) {
        this.decode = decoder;
    }

    /** The decoded value of a key, decoded from the store the first time. */
    M get(String key) {
        M value = decoded.get(key);
        if (value == null) {
            value = decode.apply(key, wrapped().get(key));
            decoded.put(key, value);
            evictBeyondBound();
        }
        return value;
    }

    /** The value of this key was changed: it is written before the next commit. */
    void changed(String key) {
        changed.add(key);
    }

    void delete(String key) {
        decoded.remove(key);
        changed.remove(key);
        wrapped().delete(key);
    }

    /**
     * Every key with its decoded value, in the store's order. Keys are read from the bytes layer
     * (no value is parsed for it); past the bound, a value is decoded for the call only and, if the
     * action changed it, written back at once, so a scan does not churn the decoded values.
     */
    @SuppressWarnings("unchecked")
    void forEach(BiConsumer<String, M> action) {
        writeChanged(); // every key is in the store now
        java.util.List<String> keys = new java.util.ArrayList<>();
        StateStore bytesLayer = wrapped() instanceof WrappedStateStore<?, ?, ?> metered ? metered.wrapped() : wrapped();
        try (StringDeserializer strings = new StringDeserializer();
                KeyValueIterator<Bytes, byte[]> all = ((KeyValueStore<Bytes, byte[]>) bytesLayer).all()) {
            all.forEachRemaining(kv -> keys.add(strings.deserialize(null, kv.key.get())));
        }
        for (String key : keys) {
            M value = decoded.get(key);
            if (value != null || decoded.size() < maxDecoded) {
                action.accept(key, get(key));
                continue;
            }
            V stored = wrapped().get(key);
            if (stored == null) {
                continue; // deleted by an earlier action of this scan
            }
            value = decode.apply(key, stored);
            action.accept(key, value);
            if (changed.remove(key) && wrapped().get(key) != null) {
                wrapped().put(key, encode.apply(value));
            }
        }
    }

    private void evictBeyondBound() {
        var it = decoded.entrySet().iterator();
        while (decoded.size() > maxDecoded && it.hasNext()) {
            Map.Entry<String, M> eldest = it.next();
            if (changed.remove(eldest.getKey())) {
                wrapped().put(eldest.getKey(), encode.apply(eldest.getValue()));
            }
            it.remove();
        }
    }

    private void writeChanged() {
        for (String key : changed) {
            M value = decoded.get(key);
            if (value != null) {
                wrapped().put(key, encode.apply(value));
            }
        }
        changed.clear();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        forget();
        super.init(context, root);
    }

    /** Before every commit (and before a clean close): what changed goes into the transaction. */
    @Override
    public void flushCache() {
        writeChanged();
        super.flushCache();
    }

    @Override
    public void flush() {
        writeChanged();
        super.flush();
    }

    /** A task closed dirty: what was decoded since the last commit is not to be trusted. */
    @Override
    public void clearCache() {
        forget();
        super.clearCache();
    }

    @Override
    public void close() {
        forget();
        super.close();
    }

    private void forget() {
        decoded.clear();
        changed.clear();
    }

    /** A changelogged, in-memory store of {@code name}, used decoded, at most {@code maxDecoded} at once. */
    static <V, M> StoreBuilder<DecodedStore<V, M>> builder(String name, Serde<V> values, Function<M, V> encode,
            int maxDecoded) {
        StoreBuilder<KeyValueStore<String, V>> inner = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name),
                org.apache.kafka.common.serialization.Serdes.String(), values).withCachingDisabled();
        return new StoreBuilder<>() {
            private boolean logging = true;
            private Map<String, String> logConfig = Map.of();

            @Override
            public StoreBuilder<DecodedStore<V, M>> withCachingEnabled() {
                throw new UnsupportedOperationException("a decoded store is its own cache");
            }

            @Override
            public StoreBuilder<DecodedStore<V, M>> withCachingDisabled() {
                return this;
            }

            @Override
            public StoreBuilder<DecodedStore<V, M>> withLoggingEnabled(Map<String, String> config) {
                logging = true;
                logConfig = Map.copyOf(config);
                return this;
            }

            @Override
            public StoreBuilder<DecodedStore<V, M>> withLoggingDisabled() {
                logging = false;
                return this;
            }

            @Override
            public DecodedStore<V, M> build() {
                StoreBuilder<KeyValueStore<String, V>> configured = logging ? inner.withLoggingEnabled(logConfig)
                        : inner.withLoggingDisabled();
                return new DecodedStore<>(configured.build(), encode, maxDecoded);
            }

            @Override
            public Map<String, String> logConfig() {
                return logConfig;
            }

            @Override
            public boolean loggingEnabled() {
                return logging;
            }

            @Override
            public String name() {
                return name;
            }
        };
    }
}
