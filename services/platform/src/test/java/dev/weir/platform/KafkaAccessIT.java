package dev.weir.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.common.kafka.KafkaAccess;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.KafkaConnection;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded broker as an attacker on the machine meets it: TLS with a client certificate or
 * nothing, and each component's principal limited to its ACLs ({@link KafkaAccess}).
 */
class KafkaAccessIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static Path dir;
    static Platform platform;

    @BeforeAll
    static void start() throws Exception {
        dir = Path.of("target", "it-access-" + UUID.randomUUID()).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
    }

    @AfterAll
    static void stop() {
        if (platform != null) {
            platform.close();
        }
    }

    @Test
    void aClientWithoutACertificateIsRefused() {
        KafkaConnection agent = platform.kafka(KafkaAccess.AGENT);
        // Plain text on the TLS listener: the broker never answers a metadata request.
        Map<String, Object> plain = quick(KafkaClients.adminConfig(KafkaConnection.unauthenticated(agent.bootstrapServers())));
        try (Admin admin = Admin.create(plain)) {
            assertThatThrownBy(() -> admin.listTopics().names().get(10, TimeUnit.SECONDS))
                    .isInstanceOfAny(ExecutionException.class, java.util.concurrent.TimeoutException.class);
        }
        // TLS that trusts the broker but shows no certificate of its own: the handshake fails.
        Map<String, String> trustOnly = new HashMap<>(agent.clientProperties());
        trustOnly.keySet().removeIf(key -> key.startsWith("ssl.keystore") || key.equals("ssl.key.password"));
        Map<String, Object> anonymous = quick(KafkaClients.adminConfig(new KafkaConnection(agent.bootstrapServers(), trustOnly)));
        try (Admin admin = Admin.create(anonymous)) {
            assertThatThrownBy(() -> admin.listTopics().names().get(10, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(SslAuthenticationException.class);
        }
    }

    @Test
    void anAgentCannotWriteDesiredStateButWritesWhatAgentsObserve() throws Exception {
        try (KafkaProducer<String, byte[]> agent = new KafkaProducer<>(
                quick(KafkaClients.producerConfig(platform.kafka(KafkaAccess.AGENT), "access-it-agent")))) {
            for (TopicId desired : List.of(TopicId.ENDPOINT_POLICY_STATE, TopicId.IPCACHE, TopicId.IDENTITIES,
                    TopicId.PODS, TopicId.NODES, TopicId.ALERTS)) {
                assertThatThrownBy(() -> agent.send(new ProducerRecord<>(CATALOGUE.name(desired), "ep", new byte[] {1}))
                        .get(15, TimeUnit.SECONDS))
                        .as(desired.catalogueId()).hasCauseInstanceOf(TopicAuthorizationException.class);
            }
            agent.send(new ProducerRecord<>(CATALOGUE.name(TopicId.FLOWS), "node", new byte[] {1})).get(15, TimeUnit.SECONDS);
        }
        try (KafkaProducer<String, byte[]> policy = new KafkaProducer<>(
                quick(KafkaClients.producerConfig(platform.kafka(KafkaAccess.POLICY), "access-it-policy")))) {
            policy.send(new ProducerRecord<>(CATALOGUE.name(TopicId.ENDPOINT_POLICY_STATE), "access-it", new byte[0]))
                    .get(15, TimeUnit.SECONDS);
        }
    }

    @Test
    void aComponentReadsOnlyWhatItNeeds() {
        try (KafkaConsumer<String, byte[]> agent = new KafkaConsumer<>(
                quick(KafkaClients.consumerConfig(platform.kafka(KafkaAccess.AGENT), "weir-agent-access-it")))) {
            for (TopicId enforced : List.of(TopicId.ENDPOINT_POLICY_STATE, TopicId.IPCACHE, TopicId.IDENTITIES,
                    TopicId.ENDPOINTS, TopicId.PODS, TopicId.NODES)) {
                agent.assign(List.of(new TopicPartition(CATALOGUE.name(enforced), 0)));
                agent.poll(Duration.ofMillis(300));
            }
            agent.assign(List.of(new TopicPartition(CATALOGUE.name(TopicId.DNS_INSIGHTS), 0)));
            assertThatThrownBy(() -> agent.poll(Duration.ofSeconds(5))).isInstanceOf(TopicAuthorizationException.class);
            agent.unsubscribe(); // the refused fetch is not to be reported again at close
        }
        // A group outside the component's own prefix is refused too.
        try (KafkaConsumer<String, byte[]> relay = new KafkaConsumer<>(
                quick(KafkaClients.consumerConfig(platform.kafka(KafkaAccess.RELAY), "weir-policy")))) {
            relay.subscribe(List.of(CATALOGUE.name(TopicId.FLOWS)));
            assertThatThrownBy(() -> relay.poll(Duration.ofSeconds(5))).isInstanceOf(AuthorizationException.class);
            relay.unsubscribe();
        }
    }

    @Test
    void noComponentCreatesTopicsOrGrantsItselfRights() {
        try (Admin agent = Admin.create(quick(KafkaClients.adminConfig(platform.kafka(KafkaAccess.AGENT))))) {
            assertThatThrownBy(() -> agent.createTopics(List.of(new NewTopic("weir.evil.v1", 1, (short) 1)))
                    .all().get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(AuthorizationException.class);
            assertThatThrownBy(() -> agent.createAcls(KafkaAccess.POLICY.bindings(CATALOGUE).stream()
                    .map(b -> new org.apache.kafka.common.acl.AclBinding(b.pattern(),
                            new org.apache.kafka.common.acl.AccessControlEntry("User:weir-agent", "*",
                                    b.entry().operation(), b.entry().permissionType())))
                    .toList()).all().get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(AuthorizationException.class);
        }
    }

    @Test
    void stateOnDiskIsTheOwnersOnly() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx--x--x");
        for (Path path : List.of(dir.resolve("kafka"), dir.resolve("secrets"), dir.resolve("secrets").resolve("tls"),
                dir.resolve("postgres"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path))).as(path.toString())
                    .isEqualTo("rwx------");
        }
        for (Path path : List.of(platform.kafkaPropertiesFile(KafkaAccess.AGENT.principal()),
                dir.resolve("kafka").resolve("server.properties"))) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(path))).as(path.toString())
                    .isEqualTo("rw-------");
        }
        assertThat(PlatformConfig.defaults(dir).harnessKafkaPort()).as("./weir up has no unauthenticated listener").isZero();
    }

    @Test
    void eachServicesDatabaseRoleHasItsOwnSchemaOnly() throws Exception {
        String url = platform.jdbcUrl();
        try (java.sql.Connection dns = java.sql.DriverManager.getConnection(url, platform.databaseUser("dns"),
                platform.databasePassword("dns")); java.sql.Statement s = dns.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS dns.access_it (x int)");
            s.execute("DROP TABLE dns.access_it");
            assertThatThrownBy(() -> s.executeQuery("SELECT count(*) FROM policy.policy"))
                    .hasMessageContaining("permission denied");
            assertThatThrownBy(() -> s.execute("CREATE TABLE public.access_it (x int)")).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> s.execute("CREATE ROLE intruder")).hasMessageContaining("permission denied");
        }
        assertThat(platform.serviceSettings("policy")).containsEntry("spring.datasource.username", "weir_policy");
        // Everything of its schema is the policy service's: tables, and the identity counter.
        try (java.sql.Connection policy = java.sql.DriverManager.getConnection(url, platform.databaseUser("policy"),
                platform.databasePassword("policy")); java.sql.Statement s = policy.createStatement()) {
            s.executeQuery("SELECT nextval('policy.identity_id_seq')").close();
            s.executeQuery("SELECT count(*) FROM policy.policy").close();
            s.executeQuery("SELECT count(*) FROM policy.flyway_schema_history").close();
        }
    }

    private static Map<String, Object> quick(Map<String, Object> config) {
        config.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 12000);
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        return config;
    }
}
