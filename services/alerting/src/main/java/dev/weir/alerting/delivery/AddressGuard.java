package dev.weir.alerting.delivery;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where a webhook may go. A receiver is anyone's URL, and the alerting service sits inside the
 * cluster: without this guard a receiver could make it call the node's metadata service, the
 * API server, a database or a pod. Refused unless the operator allows them:
 * <ul>
 * <li>addresses in the private, shared (CGNAT), loopback, link-local (cloud metadata), unique
 * local, NAT64, 6to4, Teredo, documentation, benchmarking, multicast and reserved ranges;</li>
 * <li>ports other than 80 and 443;</li>
 * <li>names that do not resolve, and names for metadata services;</li>
 * <li>URLs with user info, and schemes other than http and https.</li>
 * </ul>
 * The check runs when a receiver is saved and again at every connection, inside the connection's
 * own name resolution ({@link #addresses(String)}), so that the address called is the address
 * checked: a name that resolves to a public address at the check and a private one at the call
 * (DNS rebinding) meets the same refusal.
 */
public final class AddressGuard {

    /** Why a host is not called; the message says so without naming internal addresses. */
    public static final class Refused extends UnknownHostException {
        public Refused(String message) {
            super(message);
        }
    }

    /** A prefix of addresses. */
    record Range(byte[] network, int bits, String what) {
        static Range of(String cidr, String what) {
            int slash = cidr.indexOf('/');
            try {
                return new Range(InetAddress.getByName(cidr.substring(0, slash)).getAddress(),
                        Integer.parseInt(cidr.substring(slash + 1)), what);
            } catch (UnknownHostException | RuntimeException e) {
                throw new IllegalArgumentException("'" + cidr + "' is not a CIDR prefix", e);
            }
        }

        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((bytes[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    static final List<Range> REFUSED = List.of(
            Range.of("0.0.0.0/8", "this network"),
            Range.of("10.0.0.0/8", "private"),
            Range.of("100.64.0.0/10", "shared address space (CGNAT, some cloud metadata)"),
            Range.of("127.0.0.0/8", "loopback"),
            Range.of("169.254.0.0/16", "link-local (cloud metadata)"),
            Range.of("172.16.0.0/12", "private"),
            Range.of("192.0.0.0/24", "IETF protocol assignments"),
            Range.of("192.0.2.0/24", "documentation"),
            Range.of("192.88.99.0/24", "6to4 relay"),
            Range.of("192.168.0.0/16", "private"),
            Range.of("198.18.0.0/15", "benchmarking"),
            Range.of("198.51.100.0/24", "documentation"),
            Range.of("203.0.113.0/24", "documentation"),
            Range.of("224.0.0.0/4", "multicast"),
            Range.of("240.0.0.0/4", "reserved"),
            Range.of("::/128", "unspecified"),
            Range.of("::1/128", "loopback"),
            Range.of("::/96", "IPv4-compatible"),
            Range.of("::ffff:0:0:0/96", "IPv4-translated"),
            Range.of("64:ff9b::/96", "NAT64"),
            Range.of("64:ff9b:1::/48", "NAT64 (local)"),
            Range.of("100::/64", "discard"),
            Range.of("2001::/23", "IETF special purpose (Teredo included)"),
            Range.of("2001:db8::/32", "documentation"),
            Range.of("2002::/16", "6to4"),
            Range.of("fc00::/7", "unique local"),
            Range.of("fe80::/10", "link-local"),
            Range.of("fec0::/10", "site-local"),
            Range.of("ff00::/8", "multicast"));

    private static final Set<String> METADATA_NAMES = Set.of("metadata", "metadata.google.internal",
            "metadata.azure.com", "instance-data", "instance-data.ec2.internal");
    private static final Set<Integer> DEFAULT_PORTS = Set.of(80, 443);

    private final boolean allowPrivate;
    private final List<Range> allowed;
    private final Set<Integer> ports;

    /** The defaults: nothing private, ports 80 and 443. */
    public AddressGuard() {
        this(false, List.of(), List.of());
    }

    /**
     * @param allowPrivate every address and port (a receiver on this host, as tests and the demo
     *     use): the ranges and ports are not checked, the rest is
     * @param allowedCidrs prefixes allowed although a refused range holds them (an internal
     *     Alertmanager, say)
     * @param allowedPorts ports allowed besides 80 and 443
     */
    public AddressGuard(boolean allowPrivate, List<String> allowedCidrs, List<Integer> allowedPorts) {
        this.allowPrivate = allowPrivate;
        List<Range> ranges = new ArrayList<>();
        for (String cidr : allowedCidrs) {
            if (cidr != null && !cidr.isBlank()) {
                ranges.add(Range.of(cidr.trim(), "allowed"));
            }
        }
        this.allowed = List.copyOf(ranges);
        Set<Integer> portSet = new java.util.HashSet<>(DEFAULT_PORTS);
        for (Integer port : allowedPorts) {
            if (port == null) {
                continue; // an empty setting
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("weir.alerting.receiver-allowed-ports: " + port + " is not a port");
            }
            portSet.add(port);
        }
        this.ports = Set.copyOf(portSet);
    }

    /** @return null when the URL may be called (its name resolved and checked now), else why not */
    public String refusal(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return "not a URL";
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            return "only http and https URLs are called";
        }
        if (uri.getRawUserInfo() != null) {
            return "a URL with user info is not called (put credentials in the receiver's headers, not the URL)";
        }
        if (uri.getHost() == null) {
            return "the URL names no host";
        }
        int port = uri.getPort() == -1 ? ("https".equals(uri.getScheme()) ? 443 : 80) : uri.getPort();
        if (port < 1 || port > 65535) {
            return "port " + port + " is not a port";
        }
        if (!allowPrivate && !ports.contains(port)) {
            return "port " + port + " is not allowed (80, 443 and weir.alerting.receiver-allowed-ports)";
        }
        try {
            addresses(uri.getHost());
        } catch (UnknownHostException e) {
            return e.getMessage();
        }
        return null;
    }

    /**
     * The host's addresses, every one of them allowed, or a {@link Refused} saying why not: the
     * resolver of the connections that deliver webhooks.
     */
    public InetAddress[] addresses(String host) throws UnknownHostException {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (!allowPrivate && METADATA_NAMES.contains(name)) {
            throw new Refused(host + " is a cloud metadata service");
        }
        InetAddress[] resolved;
        try {
            resolved = InetAddress.getAllByName(name);
        } catch (UnknownHostException e) {
            throw new Refused(host + " does not resolve");
        }
        for (InetAddress address : resolved) {
            String why = refusal(address);
            if (why != null) {
                throw new Refused(host + " resolves to a " + why + " address: refused unless "
                        + "weir.alerting.receiver-allowed-cidrs allows it");
            }
        }
        return resolved;
    }

    /**
     * The IPv4 address an IPv6 one carries for a socket (IPv4-mapped ::ffff:a.b.c.d, which a
     * dual-stack socket connects to over IPv4; the JDK keeps an AAAA answer of that form as an
     * Inet6Address), else the address itself.
     */
    public static InetAddress embeddedIpv4(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 16) {
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            if (mapped) {
                try {
                    return InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException impossible) {
                    throw new IllegalStateException(impossible);
                }
            }
        }
        return address;
    }

    /** The refused range holding the address, or null when it may be called. */
    public String refusal(InetAddress address) {
        if (allowPrivate) {
            return null;
        }
        address = embeddedIpv4(address);
        for (Range range : allowed) {
            if (range.contains(address)) {
                return null;
            }
        }
        if (address.isAnyLocalAddress() || address.isLoopbackAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress()) {
            return address instanceof Inet4Address ? "private or local" : "local";
        }
        for (Range range : REFUSED) {
            if (range.contains(address)) {
                return range.what();
            }
        }
        return null;
    }
}
