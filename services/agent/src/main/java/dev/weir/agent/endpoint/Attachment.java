package dev.weir.agent.endpoint;

import java.util.Objects;

/**
 * A pod's network as the container runtime handed it to this node's agent: which sandbox, which
 * interface on the node's side carries its traffic, and the addresses it was given. The agent
 * attaches the datapath to {@code hostInterface}; it never makes pods itself.
 *
 * @param containerId the runtime's sandbox id (CNI_CONTAINERID)
 * @param ifname the pod's interface name inside its sandbox (CNI_IFNAME)
 * @param netns the sandbox's network namespace path (CNI_NETNS)
 * @param network the CNI network name the attachment belongs to
 * @param ipv4 the pod's IPv4 address, or null
 * @param ipv6 the pod's IPv6 address, or null
 * @param ownsInterface true when Weir made the veth (standalone mode) and removes it with the pod
 */
public record Attachment(String containerId, String ifname, String netns, String network, String namespace,
        String pod, String hostInterface, int ifindex, String ipv4, String ipv6, boolean ownsInterface) {

    public Attachment {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(ifname, "ifname");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(pod, "pod");
        Objects.requireNonNull(hostInterface, "hostInterface");
        if (ipv4 == null && ipv6 == null) {
            throw new IllegalArgumentException("an attachment needs an address");
        }
        netns = netns == null ? "" : netns;
        network = network == null ? "" : network;
    }

    /** The runtime's key of an attachment: one sandbox may have several interfaces. */
    public String key() {
        return key(containerId, ifname);
    }

    public static String key(String containerId, String ifname) {
        return containerId + "/" + ifname;
    }

    /** The pod's key, namespace/name. */
    public String podKey() {
        return namespace + "/" + pod;
    }

    /** The address the pod is known by first: IPv4 if it has one. */
    public String primaryIp() {
        return ipv4 != null ? ipv4 : ipv6;
    }
}
