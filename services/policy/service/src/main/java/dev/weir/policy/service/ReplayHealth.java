package dev.weir.policy.service;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Not ready until every topic the service reads has been replayed: until then it publishes
 * nothing, and readiness names the topics it is still waiting for.
 */
@Component("replay")
public class ReplayHealth implements HealthIndicator {

    private final DesiredStateTopics topics;

    public ReplayHealth(DesiredStateTopics topics) {
        this.topics = topics;
    }

    @Override
    public Health health() {
        if (topics.replayed()) {
            return Health.up().build();
        }
        return Health.outOfService().withDetail("waitingFor", topics.pendingReplays()).build();
    }
}
