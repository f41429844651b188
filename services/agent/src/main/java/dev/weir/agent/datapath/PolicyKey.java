package dev.weir.agent.datapath;

/**
 * A key of an endpoint's policy map, an LPM trie (weir_policy_key): remote identity (0: any) and
 * direction ({@link MapLayout#DIR_INGRESS} or {@link MapLayout#DIR_EGRESS}) always match whole;
 * then the IANA protocol (0: any protocol and any port) and a prefix of the destination port:
 * {@code portBits} of its 16 bits match, so 16 is one port, 0 any port of the protocol, and a
 * range is a few keys in between. Bits past the prefix are zero, so equal rules make equal keys.
 */
public record PolicyKey(int identity, int direction, int protocol, int port, int portBits) {

    public PolicyKey {
        if (direction != MapLayout.DIR_INGRESS && direction != MapLayout.DIR_EGRESS) {
            throw new IllegalArgumentException("direction must be ingress (1) or egress (2), not " + direction);
        }
        if (protocol < 0 || protocol > 255 || port < 0 || port > 65535 || portBits < 0 || portBits > 16) {
            throw new IllegalArgumentException("protocol " + protocol + ", port " + port + "/" + portBits + " out of range");
        }
        if (protocol == 0 && portBits != 0) {
            throw new IllegalArgumentException("a port needs a protocol (port " + port + " with any protocol)");
        }
        if ((port & ~mask(portBits)) != 0) {
            throw new IllegalArgumentException("port " + port + " has bits past its /" + portBits + " prefix");
        }
    }

    /** One port of a protocol; port 0: any port of it; protocol 0: anything. */
    public static PolicyKey of(int identity, int port, int protocol, int direction) {
        return new PolicyKey(identity, direction, protocol, port, protocol == 0 || port == 0 ? 0 : 16);
    }

    /** The key's prefixlen as the trie counts it (bits after the prefixlen field). */
    public int prefixLength() {
        return protocol == 0 ? MapLayout.POLICY_STATIC_BITS : MapLayout.POLICY_PROTO_BITS + portBits;
    }

    /** Rebuilds a key from the trie's fields. */
    public static PolicyKey fromPrefix(int identity, int direction, int protocol, int port, int prefixLength) {
        if (prefixLength < MapLayout.POLICY_STATIC_BITS || prefixLength > MapLayout.POLICY_FULL_BITS
                || (prefixLength > MapLayout.POLICY_STATIC_BITS && prefixLength < MapLayout.POLICY_PROTO_BITS)) {
            throw new IllegalArgumentException("policy key prefix length " + prefixLength + " is not one Weir writes");
        }
        if (prefixLength == MapLayout.POLICY_STATIC_BITS) {
            return new PolicyKey(identity, direction, 0, 0, 0);
        }
        return new PolicyKey(identity, direction, protocol, port, prefixLength - MapLayout.POLICY_PROTO_BITS);
    }

    /** The first and last port the key covers (0..65535 for any). */
    public int firstPort() {
        return port;
    }

    public int lastPort() {
        return port | (~mask(portBits) & 0xffff);
    }

    /** True when every packet this key matches, other matches too (same identity and direction). */
    public boolean within(PolicyKey other) {
        if (identity != other.identity || direction != other.direction) {
            return false;
        }
        if (other.protocol == 0) {
            return true;
        }
        return protocol == other.protocol && other.portBits <= portBits && firstPort() >= other.firstPort()
                && lastPort() <= other.lastPort();
    }

    private static int mask(int bits) {
        return bits == 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    }
}
