package dev.weir.agent.datapath;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * What the datapath records for an endpoint's interface (weir_endpoint): its id, identity,
 * isolation flags, policy revision and its own addresses. A packet the endpoint sends from any
 * other address is dropped; conntrack entries admitted under another revision are judged again.
 * {@code stateRevision} is the control plane's revision of the policy state in force, kept with
 * the pinned maps so a restarted agent never goes back to an older one.
 * The HAS_IPV4/HAS_IPV6 flags are derived from the addresses, never set by hand.
 */
public record EndpointEntry(int endpointId, int identity, int flags, int policyRevision, int stateRevision,
        Inet4Address ipv4, Inet6Address ipv6) {

    private static final int ADDRESS_FLAGS = MapLayout.EP_HAS_IPV4 | MapLayout.EP_HAS_IPV6;

    public EndpointEntry {
        flags &= ~ADDRESS_FLAGS;
    }

    /** An endpoint whose one address is ip (IPv4 or IPv6, literal). */
    public static EndpointEntry of(int endpointId, int identity, int flags, int policyRevision, String ip) {
        java.net.InetAddress address = Prefix.parse(ip).address();
        return new EndpointEntry(endpointId, identity, flags, policyRevision, 0,
                address instanceof Inet4Address v4 ? v4 : null, address instanceof Inet6Address v6 ? v6 : null);
    }

    /** An endpoint with one address of each family it has (either may be null, not both). */
    public static EndpointEntry of(int endpointId, int identity, int flags, int policyRevision, String ipv4, String ipv6) {
        Inet4Address v4 = ipv4 == null ? null : (Inet4Address) Prefix.parse(ipv4).address();
        Inet6Address v6 = ipv6 == null ? null : (Inet6Address) Prefix.parse(ipv6).address();
        return new EndpointEntry(endpointId, identity, flags, policyRevision, 0, v4, v6);
    }

    /** The flags as the datapath holds them, address flags included. */
    public int datapathFlags() {
        return flags | (ipv4 != null ? MapLayout.EP_HAS_IPV4 : 0) | (ipv6 != null ? MapLayout.EP_HAS_IPV6 : 0);
    }

    public EndpointEntry with(int newIdentity, int newFlags, int newRevision) {
        return new EndpointEntry(endpointId, newIdentity, newFlags, newRevision, stateRevision, ipv4, ipv6);
    }

    public EndpointEntry withStateRevision(int revision) {
        return new EndpointEntry(endpointId, identity, flags, policyRevision, revision, ipv4, ipv6);
    }
}
