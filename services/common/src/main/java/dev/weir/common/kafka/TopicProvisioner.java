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
     * Creates the catalogue's missing topics on the cluster of WEIR_KAFKA_BOOTSTRAP (client
     * properties, such as credentials, from the file WEIR_KAFKA_PROPERTIES_FILE names), with
     * WEIR_TOPIC_REPLICATION_FACTOR replicas (default 3), and with WEIR_KAFKA_ACLS=true each
     * component's ACLs (the broker must have an authorizer): the provisioning step of an install
     * (the Helm chart's job, docker-compose's init service). Exits non-zero on failure.
     */
    public static void main(String[] args) throws Exception {
        String bootstrap = System.getenv().getOrDefault("WEIR_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
        String properties = System.getenv("WEIR_KAFKA_PROPERTIES_FILE");
        KafkaConnection kafka = KafkaConnection.of(bootstrap, properties == null ? null : java.nio.file.Path.of(properties),
                Boolean.parseBoolean(System.getenv().getOrDefault("WEIR_KAFKA_UNAUTHENTICATED", "false")));
        short replicas = Short.parseShort(System.getenv().getOrDefault("WEIR_TOPIC_REPLICATION_FACTOR", "3"));
        try (Admin admin = Admin.create(KafkaClients.adminConfig(kafka))) {
            List<String> created = ensureTopics(admin, TopicCatalogue.standard(), replicas);
            System.out.println("weir: topics ready (" + created.size() + " created)");
            if (Boolean.parseBoolean(System.getenv().getOrDefault("WEIR_KAFKA_ACLS", "false"))) {
                ensureAcls(admin, TopicCatalogue.standard());
                System.out.println("weir: ACLs granted to " + KafkaAccess.values().length + " components");
            }
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

    /**
     * Grants each component its rights ({@link KafkaAccess}); creating a binding that exists
     * changes nothing, so this runs at every install. Needs a broker with an authorizer.
     */
    public static void ensureAcls(Admin admin, TopicCatalogue catalogue)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<org.apache.kafka.common.acl.AclBinding> wanted = KafkaAccess.all(catalogue);
        admin.createAcls(wanted).all().get(60, TimeUnit.SECONDS);
        // The controller has them now; a broker applies them a moment later. Until the broker
        // answers with all of them, a component starting now would be refused.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            java.util.Collection<org.apache.kafka.common.acl.AclBinding> seen = admin.describeAcls(
                    org.apache.kafka.common.acl.AclBindingFilter.ANY).values().get(30, TimeUnit.SECONDS);
            if (seen.containsAll(wanted)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("the broker did not show the ACLs granted within 30 s");
            }
            Thread.sleep(100);
        }
    }
}
