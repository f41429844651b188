package dev.weir.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a kubelet and its container runtime do for a node's pods, where neither runs: make the
 * pod's sandbox (a network namespace with a veth pair, as a primary plugin would), describe the
 * pod on the pods topic (as the metadata watcher would), and hand the sandbox to the node's agent
 * by running the real weir-cni plugin chained after that "primary plugin", retrying while the
 * agent says "try again later". Removing a pod runs DEL, then removes the sandbox.
 */
public final class Kubelet implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Kubelet.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    public static final String NETWORK = "weir-testbed";
    /** How long a pod start waits for an agent that says "try again later" (a runtime retries too). */
    static final long ADD_RETRY_MS = 60_000;

    /** A pod this node runs: its sandbox and host-side interface. */
    public record RunningPod(PodManifest manifest, String containerId, String netns, String hostInterface,
            int ifindex) {
        public String netnsPath() {
            return "/var/run/netns/" + netns;
        }
    }

    private final String node;
    private final PodNetwork network;
    private final PodDescriptions descriptions;
    private final CniPlugin plugin;
    private final Map<String, RunningPod> pods = new ConcurrentHashMap<>();

    /** @param descriptions where pods are described, or null when an API server describes them */
    public Kubelet(String node, PodDescriptions descriptions, CniPlugin plugin) {
        this(node, descriptions, plugin, new PodNetwork(node));
    }

    /** A kubelet whose pods hang off the given network (a node that is a network namespace of its own). */
    public Kubelet(String node, PodDescriptions descriptions, CniPlugin plugin, PodNetwork network) {
        this.node = node;
        this.network = network;
        this.descriptions = descriptions;
        this.plugin = plugin;
    }

    /**
     * A kubelet for a node whose pods an API server describes (the cluster's metadata watcher
     * publishes them): this one only makes and hands over the sandboxes.
     */
    public static Kubelet undescribed(String node, Path plugin, Path agentSocket) {
        return new Kubelet(node, null, new CniPlugin(plugin, Map.of("WEIR_CNI_SOCKET", agentSocket.toString())));
    }

    /** A kubelet for a node whose agent listens on agentSocket, running the weir-cni binary at plugin. */
    public static Kubelet of(String node, String unauthenticatedBootstrap, Path plugin, Path agentSocket) {
        return of(node, dev.weir.common.kafka.KafkaConnection.unauthenticated(unauthenticatedBootstrap), plugin, agentSocket);
    }

    /** The same, describing pods with the given Kafka credentials (the API server's watcher's, on a secured broker). */
    public static Kubelet of(String node, dev.weir.common.kafka.KafkaConnection kafka, Path plugin, Path agentSocket) {
        return new Kubelet(node, new PodDescriptions(kafka, "weir-testbed-" + node),
                new CniPlugin(plugin, Map.of("WEIR_CNI_SOCKET", agentSocket.toString())));
    }

    public String node() {
        return node;
    }

    public PodNetwork network() {
        return network;
    }

    /** Makes the pod, describes it and hands it to the agent; returns once the agent has attached it. */
    public RunningPod start(PodManifest manifest) throws IOException {
        if (pods.containsKey(manifest.key())) {
            throw new IllegalStateException(manifest.key() + " runs already on " + node);
        }
        PodNetwork.PodInterface made = network.create(manifest.namespace(), manifest.pod(), manifest.ip(),
                manifest.resolvConf());
        RunningPod pod = new RunningPod(manifest, containerId(manifest), made.netns(), made.hostInterface(),
                made.ifindex());
        try {
            describe(manifest);
            add(pod);
        } catch (IOException | RuntimeException e) {
            network.delete(manifest.namespace(), manifest.pod());
            throw e;
        }
        pods.put(manifest.key(), pod);
        return pod;
    }

    private void describe(PodManifest manifest) {
        if (descriptions != null) {
            descriptions.publish(manifest, node);
        }
    }

    private void add(RunningPod pod) throws IOException {
        long deadline = System.currentTimeMillis() + ADD_RETRY_MS;
        long wait = 100;
        while (true) {
            CniPlugin.Outcome outcome = call("ADD", pod, chainedConfig(pod));
            if (outcome.ok()) {
                return;
            }
            boolean again = outcome.stdout().contains("\"code\":11");
            if (!again || System.currentTimeMillis() > deadline) {
                throw new IOException("weir-cni ADD of " + pod.manifest().key() + " failed: " + outcome.stdout().trim());
            }
            sleep(wait);
            wait = Math.min(2000, wait * 2);
        }
    }

    /** Runs DEL for the pod and removes its sandbox; a pod that is not running is not an error. */
    public void stop(String namespace, String name) throws IOException {
        RunningPod pod = pods.remove(namespace + "/" + name);
        if (pod != null) {
            CniPlugin.Outcome outcome = call("DEL", pod, chainedConfig(pod));
            if (!outcome.ok()) {
                LOG.warn("weir-cni DEL of {} failed: {}", pod.manifest().key(), outcome.stdout().trim());
            }
        }
        network.delete(namespace, name);
        if (descriptions != null) {
            descriptions.remove(namespace, name);
        }
    }

    /**
     * Runs one CNI command for a running pod as the runtime would, without touching its sandbox:
     * a DEL before the sandbox goes, an ADD the runtime sends again. Returns the plugin's outcome.
     */
    public CniPlugin.Outcome call(String command, String namespace, String name) throws IOException {
        RunningPod pod = pods.get(namespace + "/" + name);
        if (pod == null) {
            throw new IllegalArgumentException(namespace + "/" + name + " does not run on " + node);
        }
        return call(command, pod, chainedConfig(pod));
    }

    /** Runs CHECK for a running pod: empty when the agent says all is as it should be, else its error. */
    public String check(String namespace, String name) throws IOException {
        RunningPod pod = pods.get(namespace + "/" + name);
        if (pod == null) {
            throw new IllegalArgumentException(namespace + "/" + name + " does not run on " + node);
        }
        CniPlugin.Outcome outcome = call("CHECK", pod, chainedConfig(pod));
        return outcome.ok() ? "" : outcome.stdout().trim();
    }

    /**
     * Makes this node run exactly these pods, as after a restart of the testbed: pods whose
     * sandbox exists are kept (the agent adopted them; the runtime does not call ADD again), the
     * others are started, and sandboxes no wanted pod uses are removed.
     */
    public void reconcile(List<PodManifest> wanted) throws IOException {
        Set<String> wantedNetns = new HashSet<>();
        for (PodManifest m : wanted) {
            wantedNetns.add(network.namespaceOf(m.namespace(), m.pod()));
        }
        for (String leftover : network.existing()) {
            if (!wantedNetns.contains(leftover)) {
                LOG.info("removing pod sandbox {}: not wanted on this node", leftover);
                network.deleteNamespace(leftover);
            }
        }
        for (PodManifest m : wanted) {
            var ifindex = network.ifindexOf(m.namespace(), m.pod());
            if (ifindex.isPresent() && !pods.containsKey(m.key())) {
                describe(m);
                pods.put(m.key(), new RunningPod(m, containerId(m), network.namespaceOf(m.namespace(), m.pod()),
                        network.hostInterfaceOf(m.namespace(), m.pod()), ifindex.get()));
            } else if (ifindex.isEmpty()) {
                start(m);
            }
        }
    }

    /** Stops every pod this kubelet started. */
    public void stopAll() {
        for (RunningPod pod : new ArrayList<>(pods.values())) {
            try {
                stop(pod.manifest().namespace(), pod.manifest().pod());
            } catch (IOException | RuntimeException e) {
                LOG.warn("stopping {}: {}", pod.manifest().key(), e.getMessage());
            }
        }
    }

    public List<RunningPod> pods() {
        return new ArrayList<>(pods.values());
    }

    public PodNetwork.ProcessResult execIn(String namespace, String pod, long timeoutSeconds, String... command)
            throws IOException, InterruptedException {
        return network.execIn(namespace, pod, timeoutSeconds, command);
    }

    private CniPlugin.Outcome call(String command, RunningPod pod, String config) throws IOException {
        PodManifest m = pod.manifest();
        return plugin.run(command, pod.containerId(), pod.netnsPath(), "eth0",
                "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + m.namespace() + ";K8S_POD_NAME=" + m.pod(), "", config);
    }

    /** The configuration a runtime passes weir-cni chained after the testbed's own "primary plugin". */
    private static String chainedConfig(RunningPod pod) {
        ObjectNode config = JSON.createObjectNode();
        config.put("cniVersion", "1.0.0");
        config.put("name", NETWORK);
        config.put("type", "weir-cni");
        ObjectNode prev = config.putObject("prevResult");
        prev.put("cniVersion", "1.0.0");
        var interfaces = prev.putArray("interfaces");
        interfaces.addObject().put("name", pod.hostInterface());
        interfaces.addObject().put("name", "eth0").put("sandbox", pod.netnsPath());
        prev.putArray("ips").addObject().put("address", pod.manifest().ip() + "/32").put("interface", 1)
                .put("gateway", PodNetwork.GATEWAY);
        return JSON.writeValueAsString(config);
    }

    /** A stable sandbox id per pod of this node, hex as a runtime's. */
    private String containerId(PodManifest m) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((node + "/" + m.key()).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
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

    @Override
    public void close() {
        if (descriptions != null) {
            descriptions.close();
        }
    }
}
