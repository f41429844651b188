package dev.weir.policy.model;

/**
 * A key of an endpoint's policy map: remote identity, destination ports {@code port..endPort}
 * (both 0: any port; equal: one port), IANA protocol (0: any protocol, and then any port) and
 * direction. The datapath stores a range as the few port prefixes that cover it exactly.
 */
public record MapKey(int identity, int port, int endPort, int protocol, Direction direction) {

    public enum Direction { INGRESS, EGRESS }

    public MapKey {
        if (port < 0 || endPort > 65535 || endPort < port || (port == 0 && endPort != 0)) {
            throw new IllegalArgumentException("port range " + port + ".." + endPort + " is not within 1..65535 (or 0 for any)");
        }
        if (protocol == 0 && port != 0) {
            throw new IllegalArgumentException("port " + port + " needs a protocol");
        }
    }

    /** One port (0: any). */
    public MapKey(int identity, int port, int protocol, Direction direction) {
        this(identity, port, port, protocol, direction);
    }

    /** True for a range wider than one port. */
    public boolean range() {
        return endPort > port;
    }

    /** Ports the key covers: all of them when it names none. */
    public int width() {
        return port == 0 ? 65536 : endPort - port + 1;
    }

    /** Entries the key takes in the datapath's trie: the aligned port blocks that cover its range. */
    public int datapathEntries() {
        if (protocol == 0 || port == 0) {
            return 1;
        }
        int entries = 0;
        for (int lo = port; lo <= endPort; entries++) {
            int span = 0;
            while (span < 16 && (lo & ((1 << (span + 1)) - 1)) == 0 && lo + (1 << (span + 1)) - 1 <= endPort) {
                span++;
            }
            lo += 1 << span;
        }
        return entries;
    }

    public boolean covers(int identity, int port, int protocol, Direction direction) {
        return this.identity == identity && this.direction == direction
                && (this.protocol == 0 || (this.protocol == protocol && (this.port == 0 || (port >= this.port && port <= endPort))));
    }
}
