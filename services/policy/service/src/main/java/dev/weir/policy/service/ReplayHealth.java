package dev.weir.policy.service;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Not ready until every topic the service reads has been replayed: until then it publishes
 * nothing, and readiness names the topics it is still waiting for. Down while a consumer of them
 * waits after a failure.
 */
@Component("replay")
public class ReplayHealth implements HealthIndicator {

    private final DesiredStateTopics topics;

    public ReplayHealth(DesiredStateTopics topics) {
        this.topics = topics;
    }

    @Override
    public Health health() {
        java.util.Map<String, String> failing = topics.failing();
        if (!failing.isEmpty()) {
            // A consumer loop waiting after a failure (it goes on by itself): what it reads is going stale.
            return Health.down().withDetail("failing", failing).build();
        }
        if (topics.replayed()) {
            return Health.up().build();
        }
        return Health.outOfService().withDetail("waitingFor", topics.pendingReplays()).build();
    }
}
