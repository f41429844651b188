package dev.weir.agent.cni;

import dev.weir.agent.endpoint.Attachment;
import dev.weir.agent.endpoint.EndpointManager;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * CNI's semantics on this node (spec 1.0, with 1.1's STATUS and GC). Chained after a primary
 * plugin (a configuration with a {@code prevResult}), it finds the pod's host-side interface in
 * that result and attaches the datapath to it; standalone (no {@code prevResult}, an {@code ipam}
 * section), it makes the veth pair and routes itself and gets the addresses from the IPAM plugin.
 * ADD answers only when the datapath is attached; until the agent is ready it says "try again
 * later", so no pod runs unjudged.
 */
public final class CniHandler {

    private static final Logger LOG = LoggerFactory.getLogger(CniHandler.class);
    static final Set<String> VERSIONS = Set.of("0.4.0", "1.0.0", "1.1.0");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?");
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final EndpointManager endpoints;
    private final BooleanSupplier ready;
    private final StandaloneNetwork standalone;
    /**
     * Calls for one attachment run one at a time: a DEL sent after an ADD the plugin gave up on
     * waits for that ADD, and a retried ADD finds the first one's endpoint. Striped by key.
     */
    private final Object[] attachmentLocks = new Object[64];

    public CniHandler(EndpointManager endpoints, BooleanSupplier ready, StandaloneNetwork standalone) {
        this.endpoints = endpoints;
        this.ready = ready;
        this.standalone = standalone;
        for (int i = 0; i < attachmentLocks.length; i++) {
            attachmentLocks[i] = new Object();
        }
    }

    private Object lockOf(CniRequest request) {
        return attachmentLocks[Math.floorMod(Attachment.key(request.containerId(), request.ifname()).hashCode(),
                attachmentLocks.length)];
    }

    /** A refusal with its CNI code: thrown while reading a request, answered as a CNI error. */
    static final class Refusal extends Exception {
        final int code;

        Refusal(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    public CniAnswer handle(CniRequest request) {
        String version = null;
        try {
            JsonNode config = parse(request.config());
            version = text(config, "cniVersion");
            if (!VERSIONS.contains(version)) {
                return CniAnswer.error(VERSIONS.contains(version) ? version : "1.0.0", CniAnswer.INCOMPATIBLE_VERSION,
                        "weir-cni speaks CNI " + String.join(", ", VERSIONS.stream().sorted().toList()) + ", not "
                                + version);
            }
            if ((request.command().equals("STATUS") || request.command().equals("GC")) && !version.equals("1.1.0")) {
                return CniAnswer.error(version, CniAnswer.INCOMPATIBLE_VERSION, request.command() + " is CNI 1.1.0's");
            }
            switch (request.command()) {
                case "ADD":
                    synchronized (lockOf(request)) {
                        return add(request, config, version);
                    }
                case "DEL":
                    synchronized (lockOf(request)) {
                        return del(request, config, version);
                    }
                case "CHECK":
                    return check(request, version);
                case "STATUS":
                    return ready.getAsBoolean() ? CniAnswer.ok()
                            : CniAnswer.error(version, CniAnswer.NOT_AVAILABLE, "the weir agent is starting");
                case "GC":
                    return gc(config, version);
                default:
                    return CniAnswer.error(version, CniAnswer.INVALID_ENVIRONMENT,
                            "unknown CNI_COMMAND " + printable(request.command()));
            }
        } catch (Refusal r) {
            return CniAnswer.error(version, r.code, r.getMessage());
        }
    }

    private CniAnswer add(CniRequest request, JsonNode config, String version) throws Refusal {
        if (!ready.getAsBoolean()) {
            return CniAnswer.error(version, CniAnswer.TRY_AGAIN_LATER,
                    "the weir agent has not replayed the desired state yet; try again later");
        }
        String containerId = containerId(request);
        String ifname = ifname(request);
        String namespace = request.args().getOrDefault("K8S_POD_NAMESPACE", "default");
        String pod = request.args().get("K8S_POD_NAME");
        if (pod == null || !NAME.matcher(pod).matches() || !NAME.matcher(namespace).matches()) {
            throw new Refusal(CniAnswer.INVALID_ENVIRONMENT,
                    "CNI_ARGS must name the pod (K8S_POD_NAME, and K8S_POD_NAMESPACE or the default namespace)");
        }
        JsonNode prev = config.get("prevResult");
        ObjectNode result;
        Attachment attachment;
        if (prev != null && prev.isObject()) {
            result = ((ObjectNode) prev).deepCopy();
            attachment = chained(request, config, result, containerId, ifname, namespace, pod);
        } else if (config.get("ipam") != null && config.get("ipam").isObject()) {
            var existing = endpoints.attachment(containerId, ifname);
            if (existing.isPresent()) {
                // The runtime calls again (it gave up waiting, or retries): the pod has its network already.
                ObjectNode again = StandaloneNetwork.result(existing.get());
                again.put("cniVersion", version);
                return CniAnswer.result(again);
            }
            StandaloneNetwork.Made made;
            try {
                made = standalone.create(request, config, containerId, ifname, namespace, pod);
            } catch (IOException e) {
                return CniAnswer.error(version, CniAnswer.IO_FAILURE, "making the pod's network: " + e.getMessage());
            }
            result = made.result();
            attachment = made.attachment();
        } else {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "weir-cni needs a prevResult (chained after a primary "
                    + "plugin) or an ipam section (standalone)");
        }
        try {
            endpoints.attach(attachment);
        } catch (IOException | RuntimeException e) {
            LOG.warn("attaching {} ({}) failed: {}", attachment.podKey(), attachment.hostInterface(), e.getMessage());
            if (attachment.ownsInterface()) {
                standalone.delete(request, config, attachment.hostInterface());
            }
            return CniAnswer.error(version, CniAnswer.DATAPATH_FAILURE,
                    "the datapath could not be attached to " + attachment.hostInterface() + ": " + e.getMessage());
        }
        result.put("cniVersion", version);
        return CniAnswer.result(result);
    }

    /** The attachment a primary plugin made: its host-side interface and the pod's addresses from its result. */
    private Attachment chained(CniRequest request, JsonNode config, ObjectNode result, String containerId, String ifname,
            String namespace, String pod) throws Refusal {
        JsonNode interfaces = result.get("interfaces");
        if (interfaces == null || !interfaces.isArray()) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "the prevResult lists no interfaces");
        }
        int sandboxIndex = -1;
        List<String> hostSide = new java.util.ArrayList<>();
        for (int i = 0; i < interfaces.size() && i < 64; i++) {
            JsonNode iface = interfaces.get(i);
            String name = iface.path("name").asString("");
            String sandbox = iface.path("sandbox").asString("");
            if (!sandbox.isEmpty()) {
                if (name.equals(ifname)) {
                    sandboxIndex = i;
                }
            } else if (IFNAME.matcher(name).matches() && isPodLink(name)) {
                hostSide.add(name);
            }
        }
        if (hostSide.size() != 1) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, hostSide.isEmpty()
                    ? "the primary plugin gave the pod no host-side veth to attach the datapath to"
                    : "the primary plugin's result names several host-side interfaces: " + hostSide);
        }
        String ipv4 = null;
        String ipv6 = null;
        JsonNode ips = result.get("ips");
        for (int i = 0; ips != null && ips.isArray() && i < ips.size() && i < 64; i++) {
            JsonNode ip = ips.get(i);
            if (ip.has("interface") && ip.get("interface").asInt(-1) != sandboxIndex) {
                continue;
            }
            String address = ip.path("address").asString("");
            int slash = address.indexOf('/');
            String host = slash < 0 ? address : address.substring(0, slash);
            if (host.matches("[0-9.]{7,15}") && ipv4 == null) {
                ipv4 = valid(host);
            } else if (host.matches("[0-9a-fA-F:]{2,39}") && host.contains(":") && ipv6 == null) {
                ipv6 = valid(host);
            }
        }
        if (ipv4 == null && ipv6 == null) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "the prevResult gives the pod's interface no address");
        }
        String host = hostSide.get(0);
        int ifindex = HostLinks.ifindex(host).orElseThrow(() -> new Refusal(CniAnswer.INVALID_CONFIG,
                "the host-side interface " + host + " is not in the agent's network namespace"));
        return new Attachment(containerId, ifname, request.netns(), config.path("name").asString(""), namespace, pod,
                host, ifindex, ipv4, ipv6, false);
    }

    /** A host-side link that carries one pod's traffic: a veth (not the bridge the primary plugin also lists). */
    private static boolean isPodLink(String name) {
        return HostLinks.ifindex(name).isPresent() && HostLinks.isVeth(name);
    }

    private static String valid(String host) throws Refusal {
        try {
            return java.net.InetAddress.getByName(host).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "not an address: " + printable(host));
        }
    }

    private CniAnswer del(CniRequest request, JsonNode config, String version) throws Refusal {
        if (!ready.getAsBoolean()) {
            // Before adoption this agent cannot tell which attachment the call is about.
            return CniAnswer.error(version, CniAnswer.TRY_AGAIN_LATER, "the weir agent is starting; try again later");
        }
        String containerId = containerId(request);
        String ifname = ifname(request);
        Optional<dev.weir.agent.endpoint.LocalEndpoint> removed = endpoints.detach(containerId, ifname);
        boolean standaloneConfig = config.get("prevResult") == null && config.get("ipam") != null;
        if (standaloneConfig) {
            standalone.delete(request, config, removed.map(e -> e.hostInterface())
                    .orElse(StandaloneNetwork.hostInterfaceOf(containerId, ifname)));
        }
        return CniAnswer.ok();
    }

    private CniAnswer check(CniRequest request, String version) throws Refusal {
        if (!ready.getAsBoolean()) {
            return CniAnswer.error(version, CniAnswer.TRY_AGAIN_LATER, "the weir agent is starting; try again later");
        }
        Optional<String> problem = endpoints.check(containerId(request), ifname(request));
        return problem.map(p -> CniAnswer.error(version, CniAnswer.DATAPATH_FAILURE, p)).orElse(CniAnswer.ok());
    }

    /** CNI 1.1 GC: every attachment of this network that the runtime does not list any more goes. */
    private CniAnswer gc(JsonNode config, String version) throws Refusal {
        if (!ready.getAsBoolean()) {
            return CniAnswer.error(version, CniAnswer.TRY_AGAIN_LATER, "the weir agent is starting; try again later");
        }
        JsonNode valid = config.get("cni.dev/valid-attachments");
        if (valid == null || !valid.isArray()) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "GC needs cni.dev/valid-attachments");
        }
        Set<String> keys = new HashSet<>();
        for (JsonNode a : valid) {
            keys.add(Attachment.key(a.path("containerID").asString(""), a.path("ifname").asString("")));
        }
        int removed = endpoints.collect(config.path("name").asString(""), keys);
        LOG.info("CNI GC of network {}: {} attachments removed", config.path("name").asString(""), removed);
        return CniAnswer.ok();
    }

    private static JsonNode parse(byte[] config) throws Refusal {
        try {
            JsonNode node = JSON.readTree(config);
            if (node == null || !node.isObject()) {
                throw new Refusal(CniAnswer.DECODE_FAILURE, "the network configuration is not a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new Refusal(CniAnswer.DECODE_FAILURE, "the network configuration is not JSON: "
                    + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode node, String field) throws Refusal {
        JsonNode value = node.get(field);
        if (value == null || !value.isString()) {
            throw new Refusal(CniAnswer.INVALID_CONFIG, "the network configuration has no " + field);
        }
        return value.asString();
    }

    private static String containerId(CniRequest request) throws Refusal {
        if (!CONTAINER_ID.matcher(request.containerId()).matches()) {
            throw new Refusal(CniAnswer.INVALID_ENVIRONMENT, "CNI_CONTAINERID is missing or malformed");
        }
        return request.containerId();
    }

    private static String ifname(CniRequest request) throws Refusal {
        if (!IFNAME.matcher(request.ifname()).matches()) {
            throw new Refusal(CniAnswer.INVALID_ENVIRONMENT, "CNI_IFNAME is missing or malformed");
        }
        return request.ifname();
    }

    /** A value from the request, shown in an answer without anything that could forge one. */
    private static String printable(String value) {
        String cut = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return cut.replaceAll("[^A-Za-z0-9._/:-]", "?");
    }
}
