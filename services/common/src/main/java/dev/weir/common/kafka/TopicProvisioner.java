package dev.weir.common.kafka;

import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates the catalogue's topics that the broker lacks; leaves existing ones as they are. */
public final class TopicProvisioner {

    private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

    private TopicProvisioner() {
    }

    /**
     * Creates the catalogue's missing topics on the cluster of WEIR_KAFKA_BOOTSTRAP, with
     * WEIR_TOPIC_REPLICATION_FACTOR replicas (default 3): the provisioning step of an install
     * (the Helm chart's job, docker-compose's init service). Exits non-zero on failure.
     */
    public static void main(String[] args) throws Exception {
        String bootstrap = System.getenv().getOrDefault("WEIR_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
        short replicas = Short.parseShort(System.getenv().getOrDefault("WEIR_TOPIC_REPLICATION_FACTOR", "3"));
        try (Admin admin = Admin.create(java.util.Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<String> created = ensureTopics(admin, TopicCatalogue.standard(), replicas);
            System.out.println("weir: topics ready (" + created.size() + " created)");
        }
    }

    /**
     * @param replicationFactor 1 on a single broker; 3 on a production cluster
     * @return the names of the topics that were created
     */
    public static List<String> ensureTopics(Admin admin, TopicCatalogue catalogue, short replicationFactor)
            throws InterruptedException, ExecutionException, TimeoutException {
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        List<NewTopic> missing = new ArrayList<>();
        for (TopicSpec spec : catalogue.all()) {
            if (!existing.contains(spec.name())) {
                missing.add(new NewTopic(spec.name(), spec.partitions(), replicationFactor).configs(spec.kafkaConfigs()));
            }
        }
        if (!missing.isEmpty()) {
            admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
            LOG.info("created topics {}", missing.stream().map(NewTopic::name).toList());
        }
        return missing.stream().map(NewTopic::name).toList();
    }
}
