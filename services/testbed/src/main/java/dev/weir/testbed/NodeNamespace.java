package dev.weir.testbed;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node of a cluster of several on one machine: a network namespace with its own link to the
 * machine (which routes between the nodes, as a data-centre fabric would), its own BPF filesystem
 * (an instance of its own: pins of one node are not another's), its pods behind it, and the Kafka
 * broker of the machine reachable on its own loopback at the broker's port (forwarded through a
 * Unix socket, so the broker's advertised 127.0.0.1 address works inside the node too).
 *
 * <p>Processes run in it through {@code ip netns exec}, which also mounts the node's own sysfs.
 */
public final class NodeNamespace implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NodeNamespace.class);

    private final String node;
    private final String netns;
    private final String fabricLink;
    private final String podCidr;
    private final Path dir;
    private final List<Process> forwarders = new ArrayList<>();

    private NodeNamespace(String node, String podCidr) {
        this.node = node;
        this.netns = "weirnode-" + node;
        this.fabricLink = "wn" + String.format("%08x", node.hashCode());
        this.podCidr = podCidr;
        this.dir = Path.of("/run/weir/nodes", node);
    }

    /**
     * Makes the node: its namespace, a /30 link to the machine (machineAddress on the machine's
     * side, nodeAddress on the node's), the route to its pods' CIDR through it, and its bpffs.
     */
    public static NodeNamespace create(String node, String machineAddress, String nodeAddress, String podCidr)
            throws IOException {
        NodeNamespace n = new NodeNamespace(node, podCidr);
        try {
            n.build(machineAddress, nodeAddress);
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void build(String machineAddress, String nodeAddress) throws IOException {
        PodNetwork.run("ip", "netns", "add", netns);
        PodNetwork.run("ip", "link", "add", fabricLink, "type", "veth", "peer", "name", "eth0", "netns", netns);
        PodNetwork.run("ip", "addr", "add", machineAddress + "/30", "dev", fabricLink);
        PodNetwork.run("ip", "link", "set", fabricLink, "up");
        PodNetwork.run("ip", "route", "replace", podCidr, "via", nodeAddress);
        PodNetwork.run("ip", "-n", netns, "link", "set", "lo", "up");
        PodNetwork.run("ip", "-n", netns, "addr", "add", nodeAddress + "/30", "dev", "eth0");
        PodNetwork.run("ip", "-n", netns, "link", "set", "eth0", "up");
        PodNetwork.run("ip", "-n", netns, "route", "add", PodNetwork.POD_RANGE, "via", machineAddress);
        Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
        PodNetwork.run("ip", "netns", "exec", netns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
        Files.createDirectories(dir.resolve("bpf"));
        PodNetwork.run("mount", "-t", "bpf", "bpf", dir.resolve("bpf").toString());
    }

    public String node() {
        return node;
    }

    public String netns() {
        return netns;
    }

    /** Where this node's agent pins its maps: in this node's own BPF filesystem. */
    public Path pinRoot() {
        return dir.resolve("bpf/weir");
    }

    /** This node's agent's state directory (its weir-cni socket is cni.sock there). */
    public Path stateDir() {
        return dir.resolve("agent");
    }

    /** The machine's broker on this node's loopback at the same port. */
    public void forwardKafka(int port) throws IOException {
        Path socket = dir.resolve("kafka-" + port + ".sock");
        Files.deleteIfExists(socket);
        forwarders.add(new ProcessBuilder("socat", "UNIX-LISTEN:" + socket + ",fork,mode=600",
                "TCP:127.0.0.1:" + port).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
        long deadline = System.currentTimeMillis() + 10_000;
        while (!Files.exists(socket) && System.currentTimeMillis() < deadline) {
            sleep(50);
        }
        forwarders.add(new ProcessBuilder("ip", "netns", "exec", netns, "socat",
                "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:" + socket)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
    }

    /** Starts a process in this node (its network namespace and sysfs). */
    public Process start(List<String> command, Map<String, String> environment, Path log) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        return builder.start();
    }

    /** A kubelet for this node: its pods hang off this node's namespace. */
    public Kubelet kubelet(String unauthenticatedBootstrap, Path plugin) {
        return kubelet(dev.weir.common.kafka.KafkaConnection.unauthenticated(unauthenticatedBootstrap), plugin);
    }

    /** The same, describing pods with the given Kafka credentials. */
    public Kubelet kubelet(dev.weir.common.kafka.KafkaConnection kafka, Path plugin) {
        return new Kubelet(node, new PodDescriptions(kafka, "weir-testbed-" + node),
                new CniPlugin(plugin, Map.of("WEIR_CNI_SOCKET", stateDir().resolve("cni.sock").toString())),
                new PodNetwork(node, netns));
    }

    @Override
    public void close() {
        for (Process p : forwarders) {
            p.destroyForcibly();
        }
        quietly("umount", dir.resolve("bpf").toString());
        quietly("ip", "route", "del", podCidr);
        quietly("ip", "link", "del", fabricLink);
        quietly("ip", "netns", "del", netns);
    }

    private static void quietly(String... command) {
        try {
            PodNetwork.run(command);
        } catch (IOException e) {
            LOG.debug("{}: {}", String.join(" ", command), e.getMessage());
        }
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
