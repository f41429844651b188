package dev.weir.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pods as this node hosts them where no container runtime does (the embedded platform, the
 * tests): a network namespace per pod with a veth pair, the pod's address as a /32 on its
 * {@code eth0} and the host side in the node's namespace, routed the way Calico and Cilium route
 * pods: the pod reaches 198.18.0.0/15 through the link-local gateway 169.254.1.1 that every
 * host-side veth answers for; the node has a /32 route to each pod. Nothing else is routed from
 * a pod: it has no default route.
 *
 * <p>Every namespace this class creates is named {@code weir-<node>-...}, so a restarted agent
 * finds and removes a crashed run's leftovers without touching anyone else's.
 */
public final class PodNetwork {

    private static final Logger LOG = LoggerFactory.getLogger(PodNetwork.class);
    public static final String GATEWAY = "169.254.1.1";
    public static final String POD_RANGE = "198.18.0.0/15";

    private final String node;
    /** The node's own network namespace when the node is one (several nodes on one machine), or null. */
    private final String nodeNetns;

    public PodNetwork(String node) {
        this(node, null);
    }

    /** Pods of a node that is itself the network namespace nodeNetns (null: this machine is the node). */
    public PodNetwork(String node, String nodeNetns) {
        if (!node.matches("[a-z0-9-]{1,24}")) {
            throw new IllegalArgumentException("node name must be 1-24 of [a-z0-9-]: " + node);
        }
        this.node = node;
        this.nodeNetns = nodeNetns;
    }

    /** A command on the node's side of the pods' veths. */
    private String[] onNode(String... command) {
        if (nodeNetns == null) {
            return command;
        }
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", nodeNetns));
        full.addAll(List.of(command));
        return full.toArray(String[]::new);
    }

    /** The index of a node-side interface, or empty when it does not exist. */
    private java.util.Optional<Integer> nodeIfindex(String host) throws IOException {
        if (nodeNetns == null) {
            Path file = Path.of("/sys/class/net", host, "ifindex");
            return Files.exists(file) ? java.util.Optional.of(Integer.parseInt(Files.readString(file).trim()))
                    : java.util.Optional.empty();
        }
        try {
            Process p = new ProcessBuilder("ip", "-n", nodeNetns, "-o", "link", "show", "dev", host)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(Integer.parseInt(out.substring(0, out.indexOf(':')).trim()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** The network namespace of a pod of this node. */
    public String namespaceOf(String namespace, String pod) {
        return "weir-" + node + "-" + namespace + "-" + pod;
    }

    /** A host-side interface name: 15 characters at most, stable for the pod. */
    public String hostInterfaceOf(String namespace, String pod) {
        return "wr" + String.format("%08x", (node + "/" + namespace + "/" + pod).hashCode());
    }

    /** What a created pod looks like from the node. */
    public record PodInterface(String netns, String hostInterface, int ifindex) {
    }

    /**
     * Creates the pod's namespace and veth and routes its address.
     *
     * @param resolvConf the pod's /etc/resolv.conf (the resolver reads it through `ip netns exec`), or null
     */
    public PodInterface create(String namespace, String pod, String ip, String resolvConf) throws IOException {
        String netns = namespaceOf(namespace, pod);
        String host = hostInterfaceOf(namespace, pod);
        run("ip", "netns", "add", netns);
        try {
            run("ip", "-n", netns, "link", "set", "lo", "up");
            run(onNode("ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", netns));
            run(onNode("ip", "addr", "add", GATEWAY + "/32", "dev", host, "scope", "link"));
            run(onNode("ip", "link", "set", host, "up"));
            run("ip", "-n", netns, "addr", "add", ip + "/32", "dev", "eth0");
            run("ip", "-n", netns, "link", "set", "eth0", "up");
            run("ip", "-n", netns, "route", "add", GATEWAY, "dev", "eth0", "scope", "link");
            run("ip", "-n", netns, "route", "add", POD_RANGE, "via", GATEWAY, "dev", "eth0");
            run(onNode("ip", "route", "replace", ip + "/32", "dev", host));
            // /proc/sys/net is the opener's network namespace's.
            run(onNode("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"));
            if (resolvConf != null) {
                Path dir = Path.of("/etc/netns", netns);
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("resolv.conf"), resolvConf, StandardCharsets.UTF_8);
            }
            int ifindex = nodeIfindex(host).orElseThrow(() -> new IOException(host + " vanished"));
            return new PodInterface(netns, host, ifindex);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(netns);
            throw e;
        }
    }

    /** The host-side interface index of a pod whose namespace and veth exist. */
    public java.util.Optional<Integer> ifindexOf(String namespace, String pod) {
        try {
            if (!Files.exists(Path.of("/var/run/netns", namespaceOf(namespace, pod)))) {
                return java.util.Optional.empty();
            }
            return nodeIfindex(hostInterfaceOf(namespace, pod));
        } catch (IOException | NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    /** Removes a namespace of this node by name. */
    public void deleteNamespace(String netns) {
        if (!netns.startsWith("weir-" + node + "-")) {
            throw new IllegalArgumentException(netns + " is not a pod namespace of node " + node);
        }
        deleteQuietly(netns);
    }

    /** Removes the pod's namespace; its veth pair and route go with it. */
    public void delete(String namespace, String pod) {
        deleteQuietly(namespaceOf(namespace, pod));
    }

    private void deleteQuietly(String netns) {
        try {
            run("ip", "netns", "del", netns);
        } catch (IOException e) {
            LOG.debug("netns {} was not there: {}", netns, e.getMessage());
        }
        try {
            Path dir = Path.of("/etc/netns", netns);
            Files.deleteIfExists(dir.resolve("resolv.conf"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("could not remove /etc/netns/{}: {}", netns, e.getMessage());
        }
    }

    /** Namespaces of this node's pods that exist now: after a crash, the leftovers. */
    public List<String> existing() throws IOException {
        List<String> found = new ArrayList<>();
        Path dir = Path.of("/var/run/netns");
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (var names = Files.list(dir)) {
            names.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("weir-" + node + "-")).forEach(found::add);
        }
        return found;
    }

    /** Removes every namespace a previous run of this node left behind. */
    public int removeLeftovers() throws IOException {
        List<String> leftovers = existing();
        for (String netns : leftovers) {
            LOG.info("removing leftover pod namespace {}", netns);
            deleteQuietly(netns);
        }
        return leftovers.size();
    }

    /** Runs a command in the pod's namespace and returns its exit code and output. */
    public ProcessResult execIn(String namespace, String pod, long timeoutSeconds, String... command)
            throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespaceOf(namespace, pod)));
        full.addAll(List.of(command));
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new ProcessResult(-1, new String(out, StandardCharsets.UTF_8));
        }
        return new ProcessResult(process.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    public record ProcessResult(int exitCode, String output) {
    }

    static void run(String... command) throws IOException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " timed out");
            }
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
