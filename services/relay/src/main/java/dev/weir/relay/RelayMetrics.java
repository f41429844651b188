package dev.weir.relay;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * The relay's own metrics: how long history queries take and how much of the topic they read
 * (by API: REST flows, export and service map, Hubble's and Weir's GetFlows), and the live tail's
 * followers with the flows they could not take.
 */
@Component
public class RelayMetrics {

    /** The APIs that query history; their series exist from the start, so a rate is 0 rather than absent. */
    static final java.util.List<String> APIS = java.util.List.of("flows", "export", "servicemap", "grpc");

    private final MeterRegistry registry;

    public RelayMetrics(MeterRegistry registry, FlowTail tail) {
        this.registry = registry;
        for (String api : APIS) {
            timer(api);
            scanned(api);
        }
        Gauge.builder("weir_relay_followers", tail, FlowTail::followers)
                .description("Clients following live flows (REST follow, GetFlows with follow)").register(registry);
        FunctionCounter.builder("weir_relay_follower_flows_lost", tail, FlowTail::lostForFollowers)
                .description("Live flows a follower could not take because its client read too slowly").register(registry);
        FunctionCounter.builder("weir_relay_tail_flows", tail, FlowTail::seen)
                .description("Flows read at the head of the flows topic for followers").register(registry);
        FunctionCounter.builder("weir_relay_tail_undecodable", tail, FlowTail::undecodable)
                .description("Records at the head of the flows topic that are no flow").register(registry);
    }

    private Timer timer(String api) {
        return Timer.builder("weir_relay_query").description("History queries, from the request to the last record read")
                .tag("api", api).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    }

    private io.micrometer.core.instrument.Counter scanned(String api) {
        return io.micrometer.core.instrument.Counter.builder("weir_relay_query_records_scanned")
                .description("Records of the flows topic history queries read").tag("api", api).register(registry);
    }

    static FlowScan.Stats stats(FlowHistory.Result result) {
        return new FlowScan.Stats(result.scanned(), result.undecodable(), result.truncated());
    }

    /** Times one history query of an API, and counts the records it read and whether it hit its bounds. */
    public <T> T query(String api, Supplier<T> query, java.util.function.Function<T, FlowScan.Stats> stats) {
        long started = System.nanoTime();
        T result = query.get();
        timer(api).record(Duration.ofNanos(System.nanoTime() - started));
        FlowScan.Stats s = stats.apply(result);
        if (s != null) {
            scanned(api).increment(s.scanned());
            if (s.truncated()) {
                io.micrometer.core.instrument.Counter.builder("weir_relay_query_truncated")
                        .description("History queries that stopped at their bounds (records or time) before the range's end")
                        .tag("api", api).register(registry).increment();
            }
        }
        return result;
    }
}
