package dev.weir.policy.conformance.datapath;

import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.datapath.EndpointEntry;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.datapath.PolicyEntry;
import dev.weir.agent.datapath.PolicyKey;
import dev.weir.agent.datapath.Prefix;
import dev.weir.testbed.NetnsSockets;
import dev.weir.testbed.PodNetwork;
import dev.weir.agent.state.PolicyDiff;
import dev.weir.policy.conformance.ConformanceCases;
import dev.weir.policy.conformance.ConformanceRunner;
import dev.weir.policy.model.Cidr;
import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.EndpointPolicy;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.MapEntry;
import dev.weir.policy.model.MapKey;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.Protocol;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs conformance cases through real network namespaces and the real BPF programs (root): the
 * model's pods become pods of a test node with the model's addresses, each case's compiled
 * entries are written through libweir, and every probe is decided by the kernel. TCP and UDP
 * probes are real connections (a UDP probe counts when the server's answer comes back); this
 * kernel has no SCTP sockets, so an SCTP probe is a crafted packet run through the source's
 * egress program and the destination's ingress program, judged by their verdicts. Sockets are
 * opened inside the pods' namespaces from this JVM (see NetnsSockets): no process per probe.
 *
 * <p>usage: DatapathConformanceRunner FILE [case-id ...] — prints PASS/FAIL per case and
 * "N passed, M failed"; exits 1 when a case fails, 2 when the run cannot be set up.
 */
public final class DatapathConformanceRunner implements AutoCloseable {

    private static final int PARALLEL_PROBES = 24;
    private static final int PROBE_TIMEOUT_MS = 500;

    private final ConformanceCases file;
    private final String node = "cf" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
    private final Path pins = Path.of("/sys/fs/bpf/weir-" + node);
    private final PodNetwork network = new PodNetwork(node);
    private final Map<String, Integer> ifindex = new HashMap<>();
    private final Map<String, Integer> endpointId = new HashMap<>();
    private final Map<String, String> netns = new HashMap<>();
    private final List<java.io.Closeable> closeables = new ArrayList<>();
    private final ExecutorService probes = Executors.newFixedThreadPool(PARALLEL_PROBES);
    private final AtomicInteger sctpPort = new AtomicInteger(20000);
    private Datapath datapath;
    private Set<Cidr> ipcache = Set.of();
    private int revision = 1;

    public DatapathConformanceRunner(ConformanceCases file) {
        this.file = file;
    }

    /** Creates the pods, their servers and the datapath. */
    public DatapathConformanceRunner start() throws IOException, InterruptedException {
        datapath = Datapath.open(pins);
        int id = 1;
        for (Cluster.Pod pod : file.cluster().pods()) {
            PodNetwork.PodInterface created = network.create(ns(pod), pod.name(), pod.ip(), null);
            ifindex.put(pod.key(), created.ifindex());
            endpointId.put(pod.key(), id);
            netns.put(pod.key(), created.netns());
            // Told at once ("no policy selects you" until a case's policies say otherwise).
            datapath.attach(created.ifindex(), endpoint(pod, id++, 0, 0, 1));
            for (Cluster.ContainerPort port : pod.ports()) {
                InetSocketAddress at = new InetSocketAddress(pod.ip(), port.port());
                if (port.protocol() == Protocol.TCP) {
                    ServerSocket socket = inNetns(created.netns(), () -> new ServerSocket(port.port(), 256,
                            InetAddress.getByName(pod.ip())));
                    closeables.add(socket);
                    serve(() -> {
                        while (!socket.isClosed()) {
                            socket.accept().close();
                        }
                    });
                } else if (port.protocol() == Protocol.UDP) {
                    DatagramSocket socket = inNetns(created.netns(), () -> new DatagramSocket(at));
                    closeables.add(socket);
                    serve(() -> {
                        byte[] buffer = new byte[64];
                        byte[] ok = "ok".getBytes(StandardCharsets.UTF_8);
                        while (!socket.isClosed()) {
                            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                            socket.receive(packet);
                            socket.send(new DatagramPacket(ok, ok.length, packet.getSocketAddress()));
                        }
                    });
                }
            }
        }
        return this;
    }

    private interface Server {
        void run() throws IOException;
    }

    /** A server loop on a daemon thread; it ends when its socket is closed. */
    private void serve(Server server) {
        Thread thread = new Thread(() -> {
            try {
                server.run();
            } catch (IOException closed) {
                // the run is over
            }
        }, "conformance-server");
        thread.setDaemon(true);
        thread.start();
    }

    private static <T> T inNetns(String netns, java.util.concurrent.Callable<T> action) throws IOException {
        try {
            return NetnsSockets.in(netns, action);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** The model's namespace names are prefixed, so that they cannot meet the node's real pods. */
    private static String ns(Cluster.Pod pod) {
        return "c" + pod.namespace();
    }

    public ConformanceRunner.Result run(ConformanceCases.Case c) throws Exception {
        if (c.policies() == null) {
            return new ConformanceRunner.Result(c.id(), List.of("policies rejected: " + c.problem()));
        }
        Compilation compiled = PolicyCompiler.compile(file.cluster(), c.policies(), new Identity.LocalAllocator());
        try {
            apply(compiled);
        } catch (RuntimeException e) {
            // The case cannot be enforced as compiled: say why, leave the pods open, go on with the next.
            reset();
            return new ConformanceRunner.Result(c.id(), List.of("not applied to the datapath: " + e.getMessage()));
        }
        List<String> differences = new ArrayList<>();
        for (ConformanceCases.Probe probe : c.probes()) {
            Map<String, Future<Boolean>> outcomes = new HashMap<>();
            for (Cluster.Pod source : file.cluster().pods()) {
                for (Cluster.Pod destination : file.cluster().pods()) {
                    if (source != destination) {
                        outcomes.put(source.key() + "->" + destination.key(),
                                probes.submit(() -> probe(source, destination, probe.port(), probe.protocol())));
                    }
                }
            }
            Set<String> blocked = new LinkedHashSet<>();
            for (Map.Entry<String, Future<Boolean>> outcome : outcomes.entrySet()) {
                if (!outcome.getValue().get(60, TimeUnit.SECONDS)) {
                    blocked.add(outcome.getKey());
                }
            }
            differences.addAll(ConformanceRunner.differences(probe, blocked));
        }
        if (System.getenv("WEIR_CONFORMANCE_DEBUG") != null) {
            datapath.counters().forEach(k -> System.err.println("  counter " + k));
        }
        return new ConformanceRunner.Result(c.id(), differences);
    }

    /** Writes a compilation into the maps: ipcache, then entries, then isolation, then deletions. */
    private void apply(Compilation compiled) {
        Map<Prefix, Integer> prefixes = new HashMap<>();
        compiled.ipcache().forEach((cidr, identity) -> prefixes.put(Prefix.parse(cidr.toString()), identity));
        datapath.upsertIpcache(prefixes);
        List<Prefix> stale = new ArrayList<>();
        for (Cidr old : ipcache) {
            if (!compiled.ipcache().containsKey(old)) {
                stale.add(Prefix.parse(old.toString()));
            }
        }
        datapath.deleteIpcache(stale);
        ipcache = compiled.ipcache().keySet();
        // Every endpoint's whole revision is computed and checked against its map first: a case
        // that does not fit is refused before anything of it is written.
        Map<String, Map<PolicyKey, PolicyEntry>> wanted = new HashMap<>();
        for (Cluster.Pod pod : file.cluster().pods()) {
            List<PolicyDiff.Rule> rules = new ArrayList<>();
            for (Map.Entry<MapKey, MapEntry> e : compiled.endpoint(pod.key()).entries().entrySet()) {
                MapKey k = e.getKey();
                rules.add(new PolicyDiff.Rule(k.identity(),
                        k.direction() == MapKey.Direction.INGRESS ? MapLayout.DIR_INGRESS : MapLayout.DIR_EGRESS,
                        k.protocol(), k.port(), k.endPort(), e.getValue().cookie(), e.getValue().deny()));
            }
            Map<PolicyKey, PolicyEntry> desired = PolicyDiff.desired(rules);
            int capacity = datapath.policyUsage(endpointId.get(pod.key()))[1];
            if (desired.size() > capacity) {
                throw new IllegalStateException(pod.key() + " needs " + desired.size()
                        + " policy entries, its map holds " + capacity);
            }
            wanted.put(pod.key(), desired);
        }
        for (Cluster.Pod pod : file.cluster().pods()) {
            EndpointPolicy policy = compiled.endpoint(pod.key());
            int id = endpointId.get(pod.key());
            PolicyDiff.Plan plan = PolicyDiff.plan(wanted.get(pod.key()),
                    datapath.dumpPolicy(id, MapLayout.POLICY_ENTRIES_DEFAULT));
            datapath.deletePolicy(id, plan.staleAllows());
            datapath.upsertPolicy(id, plan.denies());
            datapath.upsertPolicy(id, plan.allows());
            int flags = (policy.ingressIsolated() ? MapLayout.EP_INGRESS_ISOLATED : 0)
                    | (policy.egressIsolated() ? MapLayout.EP_EGRESS_ISOLATED : 0);
            datapath.update(ifindex.get(pod.key()), endpoint(pod, id, compiled.identityOf(pod.ip()), flags, ++revision));
            datapath.deletePolicy(id, plan.staleDenies());
        }
        // Connections of the previous case must not pass as established ones.
        datapath.flushConntrack();
    }

    /** Empties every pod's policy map and opens it, after a case that could not be applied. */
    private void reset() {
        for (Cluster.Pod pod : file.cluster().pods()) {
            int id = endpointId.get(pod.key());
            datapath.deletePolicy(id, datapath.dumpPolicy(id, MapLayout.POLICY_ENTRIES_DEFAULT).keySet());
            datapath.update(ifindex.get(pod.key()), endpoint(pod, id, 0, 0, ++revision));
        }
        datapath.flushConntrack();
    }

    private static EndpointEntry endpoint(Cluster.Pod pod, int id, int identity, int flags, int revision) {
        return EndpointEntry.of(id, identity, flags, revision, pod.ip());
    }

    private boolean probe(Cluster.Pod source, Cluster.Pod destination, int port, Protocol protocol) throws Exception {
        String from = netns.get(source.key());
        return switch (protocol) {
            case TCP -> {
                // SocketChannel.open creates its socket at once, inside the namespace; a plain
                // java.net.Socket would create it later, at connect, in the JVM's own namespace.
                try (SocketChannel channel = inNetns(from, SocketChannel::open)) {
                    channel.socket().connect(new InetSocketAddress(destination.ip(), port), PROBE_TIMEOUT_MS);
                    yield true;
                } catch (IOException refusedOrTimedOut) {
                    yield false;
                }
            }
            case UDP -> {
                try (DatagramSocket socket = inNetns(from, DatagramSocket::new)) {
                    socket.setSoTimeout(PROBE_TIMEOUT_MS);
                    byte[] probe = "probe".getBytes(StandardCharsets.UTF_8);
                    socket.send(new DatagramPacket(probe, probe.length, new InetSocketAddress(destination.ip(), port)));
                    byte[] answer = new byte[16];
                    socket.receive(new DatagramPacket(answer, answer.length));
                    yield true;
                } catch (IOException noAnswer) {
                    yield false;
                }
            }
            case SCTP -> sctp(source, destination, port);
        };
    }

    /** An SCTP INIT from the source, through its egress program, then the destination's ingress program. */
    private boolean sctp(Cluster.Pod source, Cluster.Pod destination, int port) throws Exception {
        ByteBuffer frame = sctpFrame(source.ip(), destination.ip(), sctpPort.incrementAndGet(), port);
        int egress = datapath.testRun(false, frame, frame.capacity(), ifindex.get(source.key()), 1);
        if (egress != 0) {
            return false;
        }
        return datapath.testRun(true, frame, frame.capacity(), ifindex.get(destination.key()), 1) == 0;
    }

    static ByteBuffer sctpFrame(String source, String destination, int sourcePort, int destinationPort) throws IOException {
        int sctpLength = 12 + 20; // common header and an INIT chunk
        ByteBuffer frame = ByteBuffer.allocateDirect(14 + 20 + sctpLength).order(ByteOrder.BIG_ENDIAN);
        frame.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        frame.put((byte) 0x45).put((byte) 0).putShort((short) (20 + sctpLength)).putInt(0)
                .put((byte) 64).put((byte) 132).putShort((short) 0)
                .put(InetAddress.getByName(source).getAddress()).put(InetAddress.getByName(destination).getAddress());
        frame.putShort((short) sourcePort).putShort((short) destinationPort).putInt(0).putInt(0);
        frame.put((byte) 1).put((byte) 0).putShort((short) 20).putInt(1).putInt(65536).putShort((short) 1)
                .putShort((short) 1).putInt(1);
        return frame.clear();
    }

    @Override
    public void close() throws InterruptedException {
        probes.shutdownNow();
        for (java.io.Closeable socket : closeables) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        for (Cluster.Pod pod : file.cluster().pods()) {
            if (datapath != null && ifindex.containsKey(pod.key())) {
                try {
                    datapath.detach(ifindex.get(pod.key()), endpointId.get(pod.key()), true);
                } catch (RuntimeException ignored) {
                    // the namespace goes next anyway
                }
            }
            network.delete(ns(pod), pod.name());
        }
        if (datapath != null) {
            datapath.close();
        }
        try {
            new ProcessBuilder("rm", "-rf", pins.toString()).start().waitFor();
        } catch (IOException ignored) {
            // nothing pinned
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: weir policy conformance FILE --datapath [case-id ...]");
            System.exit(2);
        }
        ConformanceCases file = ConformanceCases.read(Path.of(args[0]));
        Set<String> only = new LinkedHashSet<>(List.of(args).subList(1, args.length));
        List<ConformanceRunner.Result> results = new ArrayList<>();
        try (DatapathConformanceRunner runner = new DatapathConformanceRunner(file)) {
            runner.start();
            for (ConformanceCases.Case c : file.cases()) {
                if (only.isEmpty() || only.contains(c.id())) {
                    results.add(runner.run(c));
                }
            }
        }
        System.exit(ConformanceRunner.report(results, System.out) == 0 ? 0 : 1);
    }
}
