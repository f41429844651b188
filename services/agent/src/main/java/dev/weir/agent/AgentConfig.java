package dev.weir.agent;

import dev.weir.common.auth.BearerTokens;
import dev.weir.common.kafka.KafkaConnection;
import dev.weir.common.tls.ServerTls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The agent's settings. Every way of running the agent (the embedded platform, the Helm
 * DaemonSet, docker-compose) sets them through the same environment variables:
 * <pre>
 * WEIR_NODE_NAME            this node's name (required)
 * WEIR_KAFKA_BOOTSTRAP      Kafka bootstrap servers             127.0.0.1:9092
 * WEIR_KAFKA_PROPERTIES_FILE  Kafka client properties: security.protocol, SASL or TLS credentials, trust
 *                           store (a Java properties file, with the agent's secrets); required unless
 * WEIR_KAFKA_UNAUTHENTICATED  is true (a broker nobody else can reach)                        false
 * WEIR_BPF_PIN_ROOT         where the datapath pins its maps    /sys/fs/bpf/weir
 * WEIR_POLICY_MAP_ENTRIES   entries per endpoint policy map     16384
 * WEIR_FLOW_QUEUE           flows buffered before Kafka         65536
 * WEIR_OBSERVER_RING        flows the Observer API holds        16384
 * WEIR_OBSERVER_ADDRESS     Observer gRPC listen address        127.0.0.1:4244
 * WEIR_METRICS_ADDRESS      Prometheus listen address           127.0.0.1:9965
 * WEIR_API_TOKENS_FILE      the tokens its APIs accept, as names, scopes and SHA-256 hashes (NAME SCOPE
 *                           sha256:HEX per line): a node holds no token anyone could use elsewhere
 * WEIR_API_TOKEN_FILE       a file holding one more token, in clear (scope admin); one of the two is required
 *                           (or WEIR_API_TOKEN)
 * WEIR_STATE_DIR            the agent's records of its pods, and weir-cni's socket (cni.sock): root only
 *                                                               /run/weir
 * WEIR_CLUSTER_DNS          the cluster's resolvers (kubelet's clusterDNS), comma-separated addresses: the only
 *                           peers a pod may reach before its policy is known, and the only sources of DNS
 *                           answers that count for toFQDNs                                     (none)
 * WEIR_DNS_MAX_TTL          seconds one DNS answer may count for toFQDNs at most               3600
 * WEIR_DNS_MAX_ADDRESSES    addresses of one DNS answer that count for toFQDNs at most        32
 * WEIR_TLS_CERT_FILE        the observer's and metrics' TLS certificate chain (PEM); with WEIR_TLS_KEY_FILE
 * WEIR_TLS_KEY_FILE         its private key (PKCS#8 PEM); both re-read every minute. Without them both
 *                           listeners are plaintext and only loopback addresses are taken, unless
 * WEIR_PLAINTEXT_LISTENERS  is true                                                         false
 * </pre>
 */
public record AgentConfig(String nodeName, KafkaConnection kafka, Path pinRoot, int policyMapEntries, int flowQueue,
        int observerRing, InetSocketAddress observerAddress, InetSocketAddress metricsAddress, BearerTokens apiTokens,
        Path stateDir, DnsTrust dns, ServerTls.Files tls) {

    /**
     * Which DNS answers count, and for how much: only the resolvers' (also the only peers a pod
     * reaches before its policy is known), for at most maxTtlSeconds and maxAddresses each.
     */
    public record DnsTrust(java.util.List<java.net.InetAddress> resolvers, int maxTtlSeconds, int maxAddresses) {
        public static final int DEFAULT_MAX_TTL_SECONDS = 3600;
        public static final int DEFAULT_MAX_ADDRESSES = 32;

        public DnsTrust {
            resolvers = java.util.List.copyOf(resolvers);
            if (resolvers.size() > dev.weir.agent.datapath.MapLayout.MAX_RESOLVERS) {
                throw new IllegalArgumentException("WEIR_CLUSTER_DNS: " + resolvers.size() + " resolvers, at most "
                        + dev.weir.agent.datapath.MapLayout.MAX_RESOLVERS);
            }
            if (maxTtlSeconds < 1 || maxAddresses < 1) {
                throw new IllegalArgumentException("WEIR_DNS_MAX_TTL and WEIR_DNS_MAX_ADDRESSES must be at least 1");
            }
        }

        public static DnsTrust of(java.util.List<java.net.InetAddress> resolvers) {
            return new DnsTrust(resolvers, DEFAULT_MAX_TTL_SECONDS, DEFAULT_MAX_ADDRESSES);
        }
    }

    /** Every key the agent reads, for the check that Helm and the embedded platform set the same ones. */
    public static final java.util.List<String> KEYS = java.util.List.of("WEIR_NODE_NAME", "WEIR_KAFKA_BOOTSTRAP",
            "WEIR_KAFKA_PROPERTIES_FILE", "WEIR_KAFKA_UNAUTHENTICATED",
            "WEIR_BPF_PIN_ROOT", "WEIR_POLICY_MAP_ENTRIES", "WEIR_FLOW_QUEUE", "WEIR_OBSERVER_RING",
            "WEIR_OBSERVER_ADDRESS", "WEIR_METRICS_ADDRESS", "WEIR_API_TOKEN_FILE", "WEIR_API_TOKENS_FILE", "WEIR_API_TOKEN",
            "WEIR_STATE_DIR", "WEIR_CLUSTER_DNS", "WEIR_DNS_MAX_TTL",
            "WEIR_DNS_MAX_ADDRESSES", "WEIR_TLS_CERT_FILE", "WEIR_TLS_KEY_FILE", "WEIR_PLAINTEXT_LISTENERS");

    public static AgentConfig fromEnvironment(Map<String, String> env) throws java.io.IOException {
        BearerTokens token;
        if (env.containsKey("WEIR_API_TOKEN")) {
            token = new BearerTokens(env.get("WEIR_API_TOKEN"));
        } else if (env.containsKey("WEIR_API_TOKEN_FILE") || env.containsKey("WEIR_API_TOKENS_FILE")) {
            token = BearerTokens.load(env.containsKey("WEIR_API_TOKEN_FILE") ? Path.of(env.get("WEIR_API_TOKEN_FILE")) : null,
                    env.containsKey("WEIR_API_TOKENS_FILE") ? Path.of(env.get("WEIR_API_TOKENS_FILE")) : null);
        } else {
            throw new IllegalArgumentException("WEIR_API_TOKENS_FILE or WEIR_API_TOKEN_FILE (or WEIR_API_TOKEN) is required");
        }
        return new AgentConfig(
                require(env, "WEIR_NODE_NAME"),
                KafkaConnection.of(env.getOrDefault("WEIR_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
                        env.containsKey("WEIR_KAFKA_PROPERTIES_FILE") ? Path.of(env.get("WEIR_KAFKA_PROPERTIES_FILE")) : null,
                        Boolean.parseBoolean(env.getOrDefault("WEIR_KAFKA_UNAUTHENTICATED", "false"))),
                Path.of(env.getOrDefault("WEIR_BPF_PIN_ROOT", "/sys/fs/bpf/weir")),
                Integer.parseInt(env.getOrDefault("WEIR_POLICY_MAP_ENTRIES", "16384")),
                Integer.parseInt(env.getOrDefault("WEIR_FLOW_QUEUE", "65536")),
                Integer.parseInt(env.getOrDefault("WEIR_OBSERVER_RING", "16384")),
                address(env.getOrDefault("WEIR_OBSERVER_ADDRESS", "127.0.0.1:4244")),
                address(env.getOrDefault("WEIR_METRICS_ADDRESS", "127.0.0.1:9965")),
                token,
                Path.of(env.getOrDefault("WEIR_STATE_DIR", "/run/weir")),
                new DnsTrust(addresses("WEIR_CLUSTER_DNS", env.getOrDefault("WEIR_CLUSTER_DNS", "")),
                        Integer.parseInt(env.getOrDefault("WEIR_DNS_MAX_TTL", String.valueOf(DnsTrust.DEFAULT_MAX_TTL_SECONDS))),
                        Integer.parseInt(env.getOrDefault("WEIR_DNS_MAX_ADDRESSES",
                                String.valueOf(DnsTrust.DEFAULT_MAX_ADDRESSES)))),
                tls(env));
    }

    /**
     * Both files, or neither: then the listeners are plaintext, which tokens must not cross a
     * network in, so only loopback addresses are taken unless WEIR_PLAINTEXT_LISTENERS=true says
     * the network is trusted.
     */
    static ServerTls.Files tls(Map<String, String> env) {
        String certificate = env.get("WEIR_TLS_CERT_FILE");
        String key = env.get("WEIR_TLS_KEY_FILE");
        if (certificate == null && key == null) {
            boolean allowed = Boolean.parseBoolean(env.getOrDefault("WEIR_PLAINTEXT_LISTENERS", "false"));
            for (String listener : new String[] {"WEIR_OBSERVER_ADDRESS", "WEIR_METRICS_ADDRESS"}) {
                InetSocketAddress address = address(env.getOrDefault(listener, "127.0.0.1:0"));
                if (!allowed && (address.isUnresolved() || !address.getAddress().isLoopbackAddress())) {
                    throw new IllegalArgumentException(listener + " " + env.get(listener) + " is not loopback: give the "
                            + "listeners TLS (WEIR_TLS_CERT_FILE, WEIR_TLS_KEY_FILE), or WEIR_PLAINTEXT_LISTENERS=true");
                }
            }
            return null;
        }
        if (certificate == null || key == null) {
            throw new IllegalArgumentException("WEIR_TLS_CERT_FILE and WEIR_TLS_KEY_FILE go together");
        }
        return new ServerTls.Files(Path.of(certificate), Path.of(key));
    }

    /** The same, its listeners on TLS with this identity. */
    public AgentConfig withTls(ServerTls.Files files) {
        return new AgentConfig(nodeName, kafka, pinRoot, policyMapEntries, flowQueue, observerRing, observerAddress,
                metricsAddress, apiTokens, stateDir, dns, files);
    }

    /** Literal IP addresses, comma-separated; a name is refused (no lookup at start, no DNS to trust DNS). */
    static java.util.List<java.net.InetAddress> addresses(String key, String list) {
        java.util.List<java.net.InetAddress> result = new java.util.ArrayList<>();
        for (String item : list.split(",")) {
            String text = item.trim();
            if (text.isEmpty()) {
                continue;
            }
            if (!text.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException(key + ": " + text + " is not an IP address");
            }
            try {
                result.add(java.net.InetAddress.getByName(text));
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(key + ": " + text + " is not an IP address", e);
            }
        }
        return result;
    }

    /**
     * Defaults for a node, listening on loopback ports chosen by the system, its state under
     * /run/weir/nodes/NODE so that several nodes can run on one machine.
     */
    public static AgentConfig of(String node, KafkaConnection kafka, Path pinRoot, String apiToken) {
        return of(node, kafka, pinRoot, new BearerTokens(apiToken));
    }

    /** The same, accepting the given tokens. */
    public static AgentConfig of(String node, KafkaConnection kafka, Path pinRoot, BearerTokens apiTokens) {
        return new AgentConfig(node, kafka, pinRoot, 0, 65536, 16384, address("127.0.0.1:0"), address("127.0.0.1:0"),
                apiTokens, Path.of("/run/weir/nodes", node), DnsTrust.of(java.util.List.of()), null);
    }

    /** Where weir-cni reaches this agent. */
    public Path cniSocket() {
        return stateDir.resolve("cni.sock");
    }

    public AgentConfig listeningOn(String observer, String metrics) {
        return new AgentConfig(nodeName, kafka, pinRoot, policyMapEntries, flowQueue, observerRing,
                address(observer), address(metrics), apiTokens, stateDir, dns, tls);
    }

    public AgentConfig withStateDir(Path dir) {
        return new AgentConfig(nodeName, kafka, pinRoot, policyMapEntries, flowQueue, observerRing,
                observerAddress, metricsAddress, apiTokens, dir, dns, tls);
    }

    /** The cluster's resolvers, as literal addresses. */
    public AgentConfig withClusterDns(String... resolvers) {
        return new AgentConfig(nodeName, kafka, pinRoot, policyMapEntries, flowQueue, observerRing,
                observerAddress, metricsAddress, apiTokens, stateDir,
                new DnsTrust(addresses("clusterDns", String.join(",", resolvers)), dns.maxTtlSeconds(), dns.maxAddresses()),
                tls);
    }

    static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("not host:port: " + hostPort);
        }
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    private static String require(Map<String, String> env, String key) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(key + " is required");
        }
        return value;
    }

    @Override
    public String toString() {
        // The token stays out of logs.
        return "AgentConfig[node=" + nodeName + ", kafka=" + kafka + ", pins=" + pinRoot + ", observer="
                + observerAddress + ", metrics=" + metricsAddress + ", clusterDns=" + dns.resolvers() + "]";
    }
}
