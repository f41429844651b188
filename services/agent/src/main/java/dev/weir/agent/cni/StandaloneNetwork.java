package dev.weir.agent.cni;

import dev.weir.agent.endpoint.Attachment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Standalone mode: Weir is the pod's only plugin. The addresses come from the IPAM plugin the
 * configuration names (the standard {@code host-local}, run as the spec says: same variables,
 * same configuration on stdin); the pod gets a veth pair with its address as a /32 and is routed
 * the way Calico and Cilium route pods: its routes go through the link-local gateway 169.254.1.1,
 * which every host-side veth answers for, and the node has a /32 route to each pod. IPv4 only.
 */
public final class StandaloneNetwork {

    private static final Logger LOG = LoggerFactory.getLogger(StandaloneNetwork.class);
    public static final String GATEWAY = "169.254.1.1";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final long COMMAND_TIMEOUT_SECONDS = 30;

    /** What ADD made: the attachment to enforce on, and the CNI result to answer with. */
    public record Made(Attachment attachment, ObjectNode result) {
    }

    /** The host side's name: stable for the attachment, 15 characters at most, 48 bits of SHA-256 to tell them apart. */
    public static String hostInterfaceOf(String containerId, String ifname) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest((containerId + "/" + ifname).getBytes(StandardCharsets.UTF_8));
            return "wr" + java.util.HexFormat.of().formatHex(digest, 0, 6);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The answer to an ADD of an attachment this mode made before (a runtime that calls again). */
    static ObjectNode result(Attachment attachment) {
        ObjectNode result = JSON.createObjectNode();
        ArrayNode interfaces = result.putArray("interfaces");
        interfaces.addObject().put("name", attachment.hostInterface()).put("mac", mac(null, attachment.hostInterface()));
        interfaces.addObject().put("name", attachment.ifname()).put("mac", mac(attachment.netns(), attachment.ifname()))
                .put("sandbox", attachment.netns());
        result.putArray("ips").addObject().put("address", attachment.ipv4() + "/32").put("gateway", GATEWAY)
                .put("interface", 1);
        return result;
    }

    Made create(CniRequest request, JsonNode config, String containerId, String ifname, String namespace, String pod)
            throws IOException, CniHandler.Refusal {
        // A path, never a name or a process id (which ip link set ... netns would also take).
        if (!request.netns().startsWith("/") || request.netns().contains("..") || request.netns().length() > 255
                || !Files.exists(Path.of(request.netns()))) {
            throw new CniHandler.Refusal(CniAnswer.INVALID_ENVIRONMENT, "CNI_NETNS is missing or not a namespace path");
        }
        JsonNode ipam = ipam(request, config, "ADD");
        String ipv4 = null;
        for (JsonNode ip : ipam.path("ips")) {
            String address = ip.path("address").asString("");
            String host = address.contains("/") ? address.substring(0, address.indexOf('/')) : address;
            if (host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
                ipv4 = host;
                break;
            }
        }
        if (ipv4 == null) {
            ipam(request, config, "DEL");
            throw new CniHandler.Refusal(CniAnswer.INVALID_CONFIG, "the IPAM plugin gave no IPv4 address");
        }
        String host = hostInterfaceOf(containerId, ifname);
        String peer = "wp" + host.substring(2);
        List<String> routes = new ArrayList<>();
        for (JsonNode route : ipam.path("routes")) {
            String dst = route.path("dst").asString("");
            if (dst.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}")) {
                routes.add(dst);
            }
        }
        String netns = request.netns();
        boolean created = false;
        try {
            run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
            created = true;
            run("ip", "link", "set", peer, "netns", netns);
            inPod(netns, "ip", "link", "set", peer, "name", ifname);
            inPod(netns, "ip", "link", "set", "lo", "up");
            inPod(netns, "ip", "addr", "add", ipv4 + "/32", "dev", ifname);
            inPod(netns, "ip", "link", "set", ifname, "up");
            inPod(netns, "ip", "route", "add", GATEWAY, "dev", ifname, "scope", "link");
            for (String dst : routes) {
                inPod(netns, "ip", "route", "add", dst, "via", GATEWAY, "dev", ifname);
            }
            run("ip", "addr", "add", GATEWAY + "/32", "dev", host, "scope", "link");
            run("ip", "link", "set", host, "up");
            run("ip", "route", "replace", ipv4 + "/32", "dev", host);
            forwarding();
        } catch (IOException e) {
            // Only what this call made: a link of that name made by an earlier call is not this one's to remove.
            if (created) {
                runQuietly("ip", "link", "del", host);
            }
            try {
                ipam(request, config, "DEL");
            } catch (IOException | CniHandler.Refusal releasing) {
                LOG.warn("releasing the address of {}: {}", request.containerId(), releasing.getMessage());
            }
            throw e;
        }
        int ifindex = HostLinks.ifindex(host).orElseThrow(() -> new IOException(host + " vanished"));
        ObjectNode result = JSON.createObjectNode();
        ArrayNode interfaces = result.putArray("interfaces");
        interfaces.addObject().put("name", host).put("mac", mac(null, host));
        interfaces.addObject().put("name", ifname).put("mac", mac(netns, ifname)).put("sandbox", netns);
        result.putArray("ips").addObject().put("address", ipv4 + "/32").put("gateway", GATEWAY).put("interface", 1);
        ArrayNode resultRoutes = result.putArray("routes");
        routes.forEach(dst -> resultRoutes.addObject().put("dst", dst).put("gw", GATEWAY));
        if (ipam.has("dns")) {
            result.set("dns", ipam.get("dns"));
        }
        LOG.info("standalone: {} {} on {} ({})", namespace, pod, host, ipv4);
        return new Made(new Attachment(containerId, ifname, netns, config.path("name").asString(""), namespace, pod,
                host, ifindex, ipv4, null, true), result);
    }

    /**
     * The node forwards between its pods' links. A node set up for pods has it on already; a
     * container whose /proc/sys is read-only cannot set it, which is said, not fatal.
     */
    private static void forwarding() {
        Path file = Path.of("/proc/sys/net/ipv4/ip_forward");
        try {
            if (!Files.readString(file).trim().equals("1")) {
                Files.writeString(file, "1");
            }
        } catch (IOException e) {
            LOG.warn("IPv4 forwarding is off on this node and cannot be turned on here: {}", e.toString());
        }
    }

    /** Releases the address and removes the veth pair; each part may be gone already. */
    void delete(CniRequest request, JsonNode config, String host) {
        try {
            ipam(request, config, "DEL");
        } catch (IOException | CniHandler.Refusal e) {
            LOG.warn("IPAM DEL for {}: {}", request.containerId(), e.getMessage());
        }
        if (HostLinks.ifindex(host).isPresent()) {
            runQuietly("ip", "link", "del", host);
        }
    }

    /** Runs the configured IPAM plugin from CNI_PATH as the spec says, and returns its result. */
    private static JsonNode ipam(CniRequest request, JsonNode config, String command)
            throws IOException, CniHandler.Refusal {
        String type = config.path("ipam").path("type").asString("");
        if (!type.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new CniHandler.Refusal(CniAnswer.INVALID_CONFIG, "ipam.type is missing or malformed");
        }
        Path plugin = null;
        for (String dir : request.path().split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, type))) {
                plugin = Path.of(dir, type);
                break;
            }
        }
        if (plugin == null) {
            throw new CniHandler.Refusal(CniAnswer.INVALID_CONFIG, "IPAM plugin " + type + " not found in CNI_PATH");
        }
        Subprocess.Result ran = Subprocess.run(List.of(plugin.toString()), request.environment(command),
                request.config(), COMMAND_TIMEOUT_SECONDS, false);
        String text = ran.output().trim();
        if (ran.exitCode() != 0) {
            String msg = text;
            try {
                msg = JSON.readTree(text).path("msg").asString(text);
            } catch (RuntimeException ignored) {
                // Not JSON: say what it printed.
            }
            throw new IOException("IPAM plugin " + type + " " + command + " failed: "
                    + msg.substring(0, Math.min(200, msg.length())));
        }
        return text.isEmpty() ? JSON.createObjectNode() : JSON.readTree(text);
    }

    /** A link's MAC address, in the node's namespace or the pod's (nsenter keeps the node's sysfs: ask ip). */
    private static String mac(String netns, String link) {
        try {
            if (netns == null) {
                return Files.readString(Path.of("/sys/class/net", link, "address")).trim();
            }
            String out = run(List.of("nsenter", "--net=" + netns, "ip", "-o", "link", "show", "dev", link));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(out);
            return m.find() ? m.group(1) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void inPod(String netns, String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        full.addAll(List.of(command));
        run(full);
    }

    private static void run(String... command) throws IOException {
        run(List.of(command));
    }

    private static void runQuietly(String... command) {
        try {
            run(command);
        } catch (IOException e) {
            LOG.debug("{}: {}", String.join(" ", command), e.getMessage());
        }
    }

    private static String run(List<String> command) throws IOException {
        Subprocess.Result ran = Subprocess.run(command, Map.of(), null, COMMAND_TIMEOUT_SECONDS, true);
        if (ran.exitCode() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + ran.output().trim());
        }
        return ran.output();
    }
}
