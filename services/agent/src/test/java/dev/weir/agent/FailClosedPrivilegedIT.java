package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.dns.DnsAnswerGate;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import dev.weir.testbed.NetnsSockets;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.proto.state.v1.PolicyMapEntry;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Section;

/**
 * The agent as an attacker meets it, on the real kernel with real pods (network namespaces, root
 * only), each test an attack or a fault: a pod not told its policy yet, an allow revoked under an
 * open stream and connection, a tombstone, forged DNS answers, port ranges, a revision too big.
 * Pod b is the target: isolated for ingress, allowing pod a on TCP 8080 and UDP 9000 and anyone
 * on UDP 9001 at first.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailClosedPrivilegedIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    static final int ID_A = 3100;
    static final int ID_B = 3101;
    static final int ID_M = 3102;

    static String node;
    static String prefix;
    static Platform platform;
    static Agent agent;
    static Kubelet kubelet;
    static KafkaProducer<String, byte[]> producer;
    static TopicReader acks;
    static TopicReader observations;
    static LocalEndpoint a;
    static LocalEndpoint b;
    static LocalEndpoint m;
    static LocalEndpoint c;
    static Process dnsServer;
    static final List<AutoCloseable> sockets = new ArrayList<>();
    static long revision = 1;

    @BeforeAll
    static void start() throws Exception {
        node = "fc" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        prefix = "198.19." + ThreadLocalRandom.current().nextInt(1, 250) + ".";
        platform = new Platform(PlatformConfig.onFreePorts(Path.of("target", "it-" + node).toAbsolutePath())).start();
        producer = new KafkaProducer<>(KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "fail-closed-it"));
        for (Map.Entry<String, Integer> e : Map.of("10", ID_A, "11", ID_B, "66", ID_M).entrySet()) {
            send(TopicId.IPCACHE, prefix + e.getKey() + "/32",
                    IpcacheEntry.newBuilder().setPrefix(prefix + e.getKey() + "/32").setIdentity(e.getValue()).build());
        }
        acks = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.MAP_ACKS));
        observations = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.DNS_OBSERVATIONS));
        agent = Agent.start(AgentConfig.of(node, platform.kafka(dev.weir.common.kafka.KafkaAccess.AGENT), Path.of("/sys/fs/bpf/weir-" + node),
                platform.apiToken()).withClusterDns(prefix + "53"));
        kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(), dev.weir.agent.datapath.NativeArtifacts.cniPlugin(),
                agent.config().cniSocket());
        LocalEndpoint dns = add(pod("kube-system", "coredns", "53", null));
        a = add(pod("x", "a", "10", null));
        b = add(pod("y", "b", "11", null));
        m = add(pod("x", "m", "66", null));
        for (LocalEndpoint told : List.of(dns, a, m)) {
            apply(told, EndpointPolicyState.newBuilder(), AckStatus.APPLIED);
        }
        apply(b, firstPolicyOfB(), AckStatus.APPLIED);
        dnsServer = new ProcessBuilder("nsenter", "--net=" + dns.netns(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "dev.weir.testbed.DemoDnsServer", prefix + "53",
                "web.y.svc.cluster.local=" + prefix + "11").redirectErrorStream(true).start();
        assertThat(new java.io.BufferedReader(new java.io.InputStreamReader(dnsServer.getInputStream())).readLine())
                .startsWith("dns: serving");
        warmUp(a);
    }

    /**
     * The resolver is a fresh JVM: its first answers can take longer than a pod's 2 s resolver
     * timeout on a busy machine. Asked from an open pod until it answers, it is ready before any
     * test judges the datapath by a lookup.
     */
    static void warmUp(LocalEndpoint open) throws Exception {
        byte[] query = Message.newQuery(org.xbill.DNS.Record.newRecord(Name.fromString("web.y.svc.cluster.local."),
                org.xbill.DNS.Type.A, DClass.IN)).toWire();
        try (DatagramSocket socket = udpClient(open)) {
            socket.setSoTimeout(1000);
            for (int attempt = 0; attempt < 30; attempt++) {
                socket.send(new java.net.DatagramPacket(query, query.length, InetAddress.getByName(prefix + "53"), 53));
                try {
                    socket.receive(new java.net.DatagramPacket(new byte[512], 512));
                    return;
                } catch (java.net.SocketTimeoutException notYet) {
                    // asked again
                }
            }
        }
        throw new IllegalStateException("the resolver did not answer within 30 s");
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable socket : sockets) {
            socket.close();
        }
        if (dnsServer != null) {
            dnsServer.destroyForcibly().waitFor();
        }
        for (TopicReader reader : new TopicReader[] {acks, observations}) {
            if (reader != null) {
                reader.close();
            }
        }
        if (kubelet != null) {
            kubelet.stopAll();
            kubelet.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (platform != null) {
            platform.close();
        }
        new ProcessBuilder("rm", "-rf", "/sys/fs/bpf/weir-" + node, "/run/weir/nodes/" + node).start().waitFor();
    }

    static PodManifest pod(String namespace, String name, String octet, String resolvConf) {
        return new PodManifest(namespace, name, prefix + octet, Map.of("pod", name), List.of(), name, "Deployment", resolvConf);
    }

    static void send(TopicId topic, String key, com.google.protobuf.Message value) throws Exception {
        producer.send(new ProducerRecord<>(CATALOGUE.name(topic), key, value == null ? null : value.toByteArray())).get();
    }

    static PolicyMapEntry.Builder entry(int identity, Protocol protocol, int port, int endPort) {
        return PolicyMapEntry.newBuilder().setIdentity(identity).setProtocol(protocol).setPort(port).setEndPort(endPort)
                .setDirection(Direction.DIRECTION_INGRESS).setCookie(7);
    }

    static EndpointPolicyState.Builder firstPolicyOfB() {
        return EndpointPolicyState.newBuilder().setIngressIsolated(true)
                .addEntries(entry(ID_A, Protocol.TCP, 8080, 0)).addEntries(entry(ID_A, Protocol.UDP, 9000, 0))
                .addEntries(entry(0, Protocol.UDP, 9001, 0));
    }

    /** Publishes the endpoint's next revision and waits for its ack, which must have this status. */
    static MapApplyAck apply(LocalEndpoint endpoint, EndpointPolicyState.Builder state, AckStatus expected) throws Exception {
        long rev = ++revision;
        String key = node + "/" + endpoint.endpointId();
        send(TopicId.ENDPOINT_POLICY_STATE, key, state.setNodeName(node).setEndpointId(endpoint.endpointId())
                .setNamespace(endpoint.spec().namespace()).setPodName(endpoint.spec().pod()).setRevision(rev).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> !acks.matching(r -> key.equals(r.key())
                && ack(r).getRevision() == rev).isEmpty());
        MapApplyAck ack = ack(acks.matching(r -> key.equals(r.key()) && ack(r).getRevision() == rev).get(0));
        assertThat(ack.getStatus()).as("ack of revision %d: %s", rev, ack.getError()).isEqualTo(expected);
        return ack;
    }

    static MapApplyAck ack(ConsumerRecord<String, byte[]> record) {
        try {
            return MapApplyAck.parseFrom(record.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static <T extends AutoCloseable> T in(LocalEndpoint pod, java.util.concurrent.Callable<T> open) throws Exception {
        T socket = NetnsSockets.in(pod.netns(), open);
        sockets.add(socket);
        return socket;
    }

    static DatagramSocket udpServer(LocalEndpoint pod, int port) throws Exception {
        DatagramSocket socket = in(pod, () -> new DatagramSocket(new InetSocketAddress(pod.spec().ip(), port)));
        socket.setSoTimeout(300);
        return socket;
    }

    static DatagramSocket udpClient(LocalEndpoint pod) throws Exception {
        return in(pod, () -> new DatagramSocket(new InetSocketAddress(pod.spec().ip(), 0)));
    }

    static void sendTo(DatagramSocket from, LocalEndpoint to, int port, byte[] payload) throws IOException {
        from.send(new DatagramPacket(payload, payload.length, new InetSocketAddress(to.spec().ip(), port)));
    }

    /** Datagrams the socket receives until none comes for its timeout; each payload's first long. */
    static List<Long> received(DatagramSocket socket) throws IOException {
        List<Long> got = new ArrayList<>();
        byte[] buf = new byte[1500];
        while (true) {
            DatagramPacket packet = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(packet);
            } catch (SocketTimeoutException e) {
                return got;
            }
            got.add(packet.getLength() >= 8 ? ByteBuffer.wrap(buf, 0, 8).getLong() : -1);
        }
    }

    static byte[] sequence(long n) {
        return ByteBuffer.allocate(8).putLong(n).array();
    }

    /** A TCP connection from a pod (Java creates the socket at connect: it must happen in the pod). */
    static Socket connect(LocalEndpoint from, LocalEndpoint to, int port) throws Exception {
        return NetnsSockets.in(from.netns(), () -> {
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(to.spec().ip(), port), 1000);
                return socket;
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        });
    }

    static boolean connects(LocalEndpoint from, LocalEndpoint to, int port) throws Exception {
        try (Socket socket = connect(from, to, port)) {
            return socket.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    static ServerSocket tcpServer(LocalEndpoint pod, int port) throws Exception {
        ServerSocket server = in(pod, () -> new ServerSocket(port, 16, InetAddress.getByName(pod.spec().ip())));
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    sockets.add(server.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "accept-" + port);
        accept.setDaemon(true);
        accept.start();
        return server;
    }

    @Test
    @Order(1)
    void aPodNotToldItsPolicyReachesOnlyTheClusterResolver() throws Exception {
        DatagramSocket at9001 = udpServer(b, 9001);
        c = add(pod("x", "c", "12", "nameserver " + prefix + "53\noptions ndots:1 attempts:1 timeout:2\n"));
        // Its name lookups work from its first packet ...
        var lookup = kubelet.execIn("x", "c", 20, "getent", "ahostsv4", "web.y.svc.cluster.local");
        assertThat(lookup.exitCode()).as("getent: %s", lookup.output()).isZero();
        assertThat(lookup.output()).contains(prefix + "11");
        // ... and nothing else leaves it, though b lets anyone in on UDP 9001.
        DatagramSocket fromC = udpClient(c);
        for (int i = 0; i < 5; i++) {
            sendTo(fromC, b, 9001, sequence(i));
        }
        assertThat(received(at9001)).isEmpty();
        assertThat(dropped(MapLayout.DROP_AWAITING_POLICY, MapLayout.DIR_EGRESS)).isGreaterThanOrEqualTo(5);
        // Told "no policy selects you", it is open from the next packet on.
        apply(c, EndpointPolicyState.newBuilder(), AckStatus.APPLIED);
        sendTo(fromC, b, 9001, sequence(99));
        assertThat(received(at9001)).containsExactly(99L);
    }

    static long dropped(int reason, int direction) {
        return agent.datapath().counters().stream()
                .filter(x -> x.verdict() == MapLayout.VERDICT_DROPPED && x.dropReason() == reason && x.direction() == direction)
                .mapToLong(dev.weir.agent.datapath.Datapath.Counter::packets).sum();
    }

    @Test
    @Order(2)
    void aRevokedAllowStopsAnOpenStreamAndConnectionAtOnce() throws Exception {
        DatagramSocket at9000 = udpServer(b, 9000);
        DatagramSocket stream = udpClient(a);
        sendTo(stream, b, 9000, sequence(0));
        assertThat(received(at9000)).containsExactly(0L);
        ServerSocket server = in(b, () -> new ServerSocket(8080, 16, InetAddress.getByName(b.spec().ip())));
        Socket client = connect(a, b, 8080);
        sockets.add(client);
        Socket accepted = server.accept();
        sockets.add(accepted);
        accepted.setSoTimeout(1000);
        client.setSoTimeout(1000);
        OutputStream toB = client.getOutputStream();
        InputStream atB = accepted.getInputStream();
        toB.write(1);
        assertThat(atB.read()).isEqualTo(1);

        // The stream keeps going while the allow is revoked: a revision with UDP 9001 only.
        java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicBoolean go = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread sender = new Thread(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (go.get() && System.nanoTime() < deadline) {
                try {
                    sendTo(stream, b, 9000, sequence(sent.incrementAndGet()));
                    Thread.sleep(10);
                } catch (Exception e) {
                    return;
                }
            }
        });
        sender.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() >= 10);
        apply(b, EndpointPolicyState.newBuilder().setIngressIsolated(true).addEntries(entry(0, Protocol.UDP, 9001, 0)),
                AckStatus.APPLIED);
        long atAck = sent.get();
        // The stream goes on after the ack: at least 20 more datagrams, none of which may arrive.
        await().atMost(Duration.ofSeconds(10)).until(() -> sent.get() - atAck > 20);
        go.set(false);
        sender.join();
        List<Long> after = received(at9000);
        assertThat(after).as("datagrams of the stream before the revocation").isNotEmpty();
        assertThat(after).as("datagrams sent after the ack that arrived").allMatch(n -> n <= atAck);
        assertThat(sent.get() - atAck).as("datagrams sent after the ack").isGreaterThan(20);
        // The same source port again: a new connection, judged anew, and denied.
        sendTo(stream, b, 9000, sequence(-2));
        assertThat(received(at9000)).isEmpty();
        // The open TCP connection no longer reaches b (b's own egress is open: what it sends is its
        // policy's business); a new one does not open.
        toB.write(2);
        assertThat(readOrTimeout(atB)).as("a's byte after the revocation").isEqualTo(-2);
        assertThat(connects(a, b, 8080)).isFalse();
        assertThat(agent.datapath().health(MapLayout.HEALTH_CT_REVOKED)).isGreaterThanOrEqualTo(2);
    }

    /** The byte read, or -2 when none came within the socket's timeout. */
    static int readOrTimeout(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            return -2;
        }
    }

    @Test
    @Order(3)
    void aTombstoneLeavesTheLastStateInForce() throws Exception {
        var before = agent.datapath().dumpPolicy(b.endpointId(), 64);
        send(TopicId.ENDPOINT_POLICY_STATE, node + "/" + b.endpointId(), null);
        await().atMost(Duration.ofSeconds(30)).until(() -> agent.desiredState().tombstonesKept() == 1);
        assertThat(agent.datapath().dumpPolicy(b.endpointId(), 64)).isEqualTo(before);
        assertThat(agent.datapath().lookupEndpoint(b.ifindex()).orElseThrow().flags() & MapLayout.EP_INGRESS_ISOLATED)
                .isNotZero();
        DatagramSocket at9000 = udpServer(b, 9002);
        sendTo(udpClient(a), b, 9002, sequence(1));
        assertThat(received(at9000)).as("still isolated").isEmpty();
    }

    static Message dnsAnswer(int id, String name, String address) throws Exception {
        Message message = new Message(id);
        message.getHeader().setFlag(Flags.QR);
        message.getHeader().setFlag(Flags.RD);
        message.getHeader().setFlag(Flags.RA);
        Name qname = Name.fromString(name);
        message.addRecord(org.xbill.DNS.Record.newRecord(qname, org.xbill.DNS.Type.A, DClass.IN), Section.QUESTION);
        message.addRecord(new ARecord(qname, DClass.IN, 3600, InetAddress.getByName(address)), Section.ANSWER);
        return message;
    }

    @Test
    @Order(4)
    void forgedDnsAnswersWidenNothing() throws Exception {
        long notFromResolver = agent.dnsObservations().gate().refused(DnsAnswerGate.Refusal.NOT_FROM_RESOLVER);
        long unasked = agent.dnsObservations().gate().refused(DnsAnswerGate.Refusal.NO_MATCHING_QUERY);
        DatagramSocket victim = udpServer(c, 40053);
        // A pod sends c an "answer" from port 53 ...
        DatagramSocket forger = in(m, () -> new DatagramSocket(new InetSocketAddress(m.spec().ip(), 53)));
        byte[] forged = dnsAnswer(4242, "forged.example.com.", "198.19.255.66").toWire();
        for (int i = 0; i < 3; i++) {
            forger.send(new DatagramPacket(forged, forged.length, new InetSocketAddress(c.spec().ip(), 40053)));
        }
        assertThat(received(victim)).hasSize(3); // delivered (c is open): it just does not count
        await().atMost(Duration.ofSeconds(10)).until(() ->
                agent.dnsObservations().gate().refused(DnsAnswerGate.Refusal.NOT_FROM_RESOLVER) >= notFromResolver + 3);
        // ... and a real lookup afterwards is published, so the forged names' absence means something.
        var lookup = kubelet.execIn("x", "c", 20, "getent", "ahostsv4", "web.y.svc.cluster.local");
        assertThat(lookup.exitCode()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> !observations.matching(
                r -> r.key().equals("web.y.svc.cluster.local.")).isEmpty());
        assertThat(observations.matching(r -> r.key().equals("forged.example.com."))).isEmpty();
        assertThat(agent.dnsObservations().gate().refused(DnsAnswerGate.Refusal.NO_MATCHING_QUERY)).isGreaterThanOrEqualTo(unasked);
    }

    @Test
    @Order(5)
    void portRangesAreEnforcedThroughTheDatapath() throws Exception {
        for (int port : new int[] {31999, 32000, 32768, 32769}) {
            tcpServer(b, port);
        }
        DatagramSocket high = udpServer(b, 65535);
        // Kubernetes' documentation's example, and every UDP port.
        MapApplyAck ack = apply(b, EndpointPolicyState.newBuilder().setIngressIsolated(true)
                .addEntries(entry(ID_A, Protocol.TCP, 32000, 32768)).addEntries(entry(ID_A, Protocol.UDP, 1, 65535)),
                AckStatus.APPLIED);
        int entries = agent.datapath().dumpPolicy(b.endpointId(), 64).size();
        assertThat(entries).as("map entries for two ranges").isLessThanOrEqualTo(32);
        assertThat(ack.getEntriesWritten()).isEqualTo(entries);
        assertThat(connects(a, b, 32000)).isTrue();
        assertThat(connects(a, b, 32768)).isTrue();
        assertThat(connects(a, b, 31999)).isFalse();
        assertThat(connects(a, b, 32769)).isFalse();
        assertThat(connects(m, b, 32000)).as("another identity").isFalse();
        sendTo(udpClient(a), b, 65535, sequence(5));
        assertThat(received(high)).containsExactly(5L);
    }

    @Test
    @Order(6)
    void aRevisionThatDoesNotFitIsRefusedWholeAndTheOldOneStays() throws Exception {
        var before = agent.datapath().dumpPolicy(b.endpointId(), 64);
        EndpointPolicyState.Builder huge = EndpointPolicyState.newBuilder().setIngressIsolated(true);
        for (int i = 0; i <= MapLayout.POLICY_ENTRIES_DEFAULT; i++) {
            huge.addEntries(entry(10_000 + i, Protocol.TCP, 80, 0));
        }
        MapApplyAck refused = apply(b, huge, AckStatus.FAILED);
        assertThat(refused.getError()).contains("exceed").contains("stays in force");
        assertThat(agent.datapath().dumpPolicy(b.endpointId(), 64)).isEqualTo(before);
        assertThat(connects(a, b, 32000)).as("the old revision still allows").isTrue();
        assertThat(connects(a, b, 31999)).as("and still denies").isFalse();
    }

    @Test
    @Order(7)
    void aNewPodGivenADepartedPodsIdTakesNoneOfItsState() throws Exception {
        int next = agent.endpoints().endpoints().stream().mapToInt(LocalEndpoint::endpointId).max().orElseThrow() + 1;
        // The departed pod that had the id was open ("no policy selects you"): its record is still
        // here, pending under the id (one without its pod's name: only the id says whose it is).
        EndpointPolicyState departed = EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(next)
                .setNamespace("x").setPodName("departed").setRevision(500).build();
        int pendingBefore = agent.desiredState().pendingStates();
        send(TopicId.ENDPOINT_POLICY_STATE, node + "/" + next, departed.toBuilder().clearNamespace().clearPodName().build());
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.desiredState().pendingStates() > pendingBefore);
        LocalEndpoint e = add(pod("x", "e", "14", null));
        assertThat(e.endpointId()).isEqualTo(next);
        DatagramSocket atA = udpServer(a, 9100);
        DatagramSocket fromE = udpClient(e);
        sendTo(fromE, a, 9100, sequence(1));
        assertThat(received(atA)).as("closed: the departed pod's state was not taken").isEmpty();
        // Nor is the departed pod's record taken when it comes again, now that the id is e's.
        long ignoredBefore = agent.desiredState().statesForOtherPods();
        send(TopicId.ENDPOINT_POLICY_STATE, node + "/" + next, departed.toBuilder().setRevision(501).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> agent.desiredState().statesForOtherPods() > ignoredBefore);
        sendTo(fromE, a, 9100, sequence(2));
        assertThat(received(atA)).as("still closed").isEmpty();
        assertThat(agent.datapath().lookupEndpoint(e.ifindex()).orElseThrow().flags() & MapLayout.EP_AWAITING_POLICY)
                .isNotZero();
        // Its own state opens it.
        apply(e, EndpointPolicyState.newBuilder(), AckStatus.APPLIED);
        sendTo(fromE, a, 9100, sequence(3));
        assertThat(received(atA)).containsExactly(3L);
    }

    /** Starts the pod as a kubelet would (weir-cni ADD) and returns the endpoint the agent made of it. */
    static LocalEndpoint add(PodManifest manifest) throws Exception {
        kubelet.start(manifest);
        return agent.endpoints().byPod(manifest.namespace(), manifest.pod()).orElseThrow();
    }
}
