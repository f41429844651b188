package dev.weir.policy.service;

import dev.weir.policy.service.staged.StagedEvaluator;
import dev.weir.policy.service.staged.StagedPolicyStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The staged evaluator, judging live flows against the staged policies for as long as the service runs. */
@Configuration(proxyBeanMethods = false)
class StagedConfiguration {

    @Bean(initMethod = "start", destroyMethod = "close")
    StagedEvaluator stagedEvaluator(DesiredStateTopics topics, StagedPolicyStore store, Reconciler reconciler,
            MeterRegistry registry) {
        return new StagedEvaluator(topics.kafka(), store, topics::cluster, reconciler::lastPolicies, reconciler::compiles,
                reconciler::compileWhatIf, () -> topics.replayed() && reconciler.last() != null, registry);
    }
}
