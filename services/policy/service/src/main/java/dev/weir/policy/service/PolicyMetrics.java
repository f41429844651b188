package dev.weir.policy.service;

import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.MapApplyAck;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * The policy service's own metrics: how long compiles take, how long a compiled endpoint state
 * takes to be applied in its node's maps (propagation), how many endpoints enforce an older
 * revision than the one published for them, and the maps agents failed to apply.
 */
@Component
public class PolicyMetrics {

    private final Timer fullCompiles;
    private final Timer incrementalCompiles;
    private final Timer propagation;
    private final Counter applyFailures;
    private final Instant started = Instant.now();

    public PolicyMetrics(MeterRegistry registry, DesiredStateTopics topics) {
        this.fullCompiles = compileTimer(registry, "full");
        this.incrementalCompiles = compileTimer(registry, "incremental");
        this.propagation = Timer.builder("weir_policy_propagation")
                .description("From an endpoint's policy state compiled to its node's ack that the maps hold it (the two "
                        + "clocks are the service's and the node's)")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        this.applyFailures = Counter.builder("weir_policy_apply_failures").description("Policy states an agent failed to apply")
                .register(registry);
        Gauge.builder("weir_policy_endpoints_behind", topics, PolicyMetrics::behind)
                .description("Endpoints whose node has not acknowledged the revision last published for them")
                .register(registry);
        Gauge.builder("weir_policy_endpoint_states", topics, t -> t.policyStates.size())
                .description("Endpoint policy states published").register(registry);
        topics.onAck((key, ack) -> acked(topics, key, ack));
    }

    private static Timer compileTimer(MeterRegistry registry, String kind) {
        return Timer.builder("weir_policy_compile").description("Compiles of the policies for the cluster's endpoints and the "
                + "publishing of what changed, "
                + "full or incremental (those endpoints a change concerns)").tag("kind", kind)
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
    }

    void compiled(boolean full, long nanos) {
        (full ? fullCompiles : incrementalCompiles).record(Duration.ofNanos(nanos));
    }

    private void acked(DesiredStateTopics topics, String key, MapApplyAck ack) {
        if (ack.getStatus() == AckStatus.FAILED) {
            applyFailures.increment();
            return;
        }
        EndpointPolicyState state = topics.policyStates.get(key);
        if (state == null || state.getRevision() != ack.getRevision() || !state.hasCompiled() || !ack.hasApplied()) {
            return;
        }
        Instant compiled = Instant.ofEpochSecond(state.getCompiled().getSeconds(), state.getCompiled().getNanos());
        Instant applied = Instant.ofEpochSecond(ack.getApplied().getSeconds(), ack.getApplied().getNanos());
        // Acks replayed from before this service started are history, not this instance's propagation.
        if (compiled.isBefore(started)) {
            return;
        }
        propagation.record(Duration.between(compiled, applied).isNegative() ? Duration.ZERO : Duration.between(compiled, applied));
    }

    static double behind(DesiredStateTopics topics) {
        int behind = 0;
        for (var state : topics.policyStates.entrySet()) {
            MapApplyAck ack = topics.acks.get(state.getKey());
            if (ack == null || ack.getRevision() < state.getValue().getRevision()) {
                behind++;
            }
        }
        return behind;
    }
}
