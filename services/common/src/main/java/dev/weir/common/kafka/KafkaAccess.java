package dev.weir.common.kafka;

import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Who may do what on Kafka: each Weir component is one principal, and these are the only rights it
 * gets (the broker refuses everything else: no ACL, no access). Whoever writes the desired-state
 * topics decides what every node allows, so only the policy service writes them; an agent writes
 * what agents observe and reads what it enforces.
 */
public enum KafkaAccess {

    POLICY("weir-policy",
            EnumSet.of(TopicId.IDENTITIES, TopicId.IPCACHE, TopicId.ENDPOINT_POLICY_STATE, TopicId.PODS,
                    TopicId.NAMESPACES, TopicId.NODES, TopicId.API_SERVER, TopicId.STAGED_DROPS, TopicId.DEAD_LETTER),
            EnumSet.of(TopicId.IDENTITIES, TopicId.IPCACHE, TopicId.ENDPOINT_POLICY_STATE, TopicId.PODS,
                    TopicId.NAMESPACES, TopicId.NODES, TopicId.API_SERVER, TopicId.ENDPOINTS, TopicId.MAP_ACKS,
                    TopicId.DNS_OBSERVATIONS, TopicId.FLOWS)),
    AGENT("weir-agent",
            EnumSet.of(TopicId.FLOWS, TopicId.ENDPOINTS, TopicId.MAP_ACKS, TopicId.NODE_STATUS,
                    TopicId.DNS_OBSERVATIONS, TopicId.DEAD_LETTER),
            EnumSet.of(TopicId.ENDPOINT_POLICY_STATE, TopicId.IDENTITIES, TopicId.IPCACHE, TopicId.NODES,
                    TopicId.PODS, TopicId.ENDPOINTS)),
    /** Kafka Streams: its internal topics and transactions are under its application id. */
    DNS("weir-dns",
            EnumSet.of(TopicId.DNS_INSIGHTS, TopicId.DNS_STATS, TopicId.DEAD_LETTER),
            EnumSet.of(TopicId.FLOWS, TopicId.DNS_INSIGHTS, TopicId.DNS_STATS)),
    ALERTING("weir-alerting",
            EnumSet.of(TopicId.ALERTS, TopicId.DEAD_LETTER),
            EnumSet.of(TopicId.FLOWS, TopicId.DNS_INSIGHTS, TopicId.DNS_STATS, TopicId.NODE_STATUS, TopicId.STAGED_DROPS)),
    RELAY("weir-relay",
            EnumSet.noneOf(TopicId.class),
            EnumSet.of(TopicId.FLOWS, TopicId.NODE_STATUS));

    /** The operator's principal: provisioning topics and ACLs; a super user, never given to a component. */
    public static final String ADMIN = "weir-admin";
    /** The broker's own principal (controller and inter-broker connections). */
    public static final String BROKER = "weir-kafka";

    private final String principal;
    private final Set<TopicId> writes;
    private final Set<TopicId> reads;

    KafkaAccess(String principal, Set<TopicId> writes, Set<TopicId> reads) {
        this.principal = principal;
        this.writes = writes;
        this.reads = reads;
    }

    /** The principal's name, as a client certificate's CN or a SCRAM user name gives it. */
    public String principal() {
        return principal;
    }

    public Set<TopicId> writes() {
        return writes;
    }

    public Set<TopicId> reads() {
        return reads;
    }

    /**
     * The ACLs that grant this component its rights and nothing more: WRITE on what it produces,
     * READ on what it consumes (DESCRIBE comes with either), its own consumer groups (named after
     * the principal), and for the DNS service its Streams topics and transactions.
     */
    public List<AclBinding> bindings(TopicCatalogue catalogue) {
        String user = "User:" + principal;
        List<AclBinding> bindings = new ArrayList<>();
        for (TopicId topic : writes) {
            bindings.add(allow(ResourceType.TOPIC, catalogue.name(topic), PatternType.LITERAL, user, AclOperation.WRITE));
        }
        for (TopicId topic : reads) {
            bindings.add(allow(ResourceType.TOPIC, catalogue.name(topic), PatternType.LITERAL, user, AclOperation.READ));
        }
        bindings.add(allow(ResourceType.GROUP, principal, PatternType.PREFIXED, user, AclOperation.READ));
        if (this == DNS) {
            // Streams' changelog and repartition topics are named "<application id>-…".
            bindings.add(allow(ResourceType.TOPIC, principal + "-", PatternType.PREFIXED, user, AclOperation.ALL));
            bindings.add(allow(ResourceType.TRANSACTIONAL_ID, principal, PatternType.PREFIXED, user, AclOperation.WRITE));
        }
        return bindings;
    }

    /** Every component's bindings. */
    public static List<AclBinding> all(TopicCatalogue catalogue) {
        List<AclBinding> bindings = new ArrayList<>();
        for (KafkaAccess access : values()) {
            bindings.addAll(access.bindings(catalogue));
        }
        return bindings;
    }

    private static AclBinding allow(ResourceType type, String name, PatternType pattern, String user,
            AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, pattern),
                new AccessControlEntry(user, "*", operation, AclPermissionType.ALLOW));
    }
}
