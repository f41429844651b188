package dev.weir.policy.model;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix, normalised (host bits cleared). */
public record Cidr(byte[] address, int length) {

    public static Cidr parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR (address/length)");
        }
        String host = text.substring(0, slash);
        byte[] bytes = dottedQuad(host);
        if (bytes == null) {
            bytes = shorthand(host);
        }
        if (bytes == null) {
            bytes = address(host, text);
        }
        int length = prefixLength(text, slash + 1);
        if (length < 0 || length > bytes.length * 8) {
            throw new IllegalArgumentException("'" + text + "' has a prefix length out of 0.." + bytes.length * 8);
        }
        for (int bit = length; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        return new Cidr(bytes, length);
    }

    public static Cidr host(String ip) {
        byte[] bytes = dottedQuad(ip);
        return bytes != null ? new Cidr(bytes, 32) : parse(ip + (ip.contains(":") ? "/128" : "/32"));
    }

    /**
     * The four bytes of a canonical dotted quad (four decimal octets, no leading zeros), or null
     * for anything else, which the general parser judges. The compiler parses every pod's
     * address on each compile: this is the common case, without a resolver call.
     */
    private static byte[] dottedQuad(String text) {
        byte[] bytes = new byte[4];
        int octet = 0;
        int value = -1;
        int digits = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                if (digits == 3 || value == 0) {
                    return null; // a fourth digit, or a leading zero
                }
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                digits++;
            } else if (c == '.' && digits > 0 && octet < 3) {
                if (value > 255) {
                    return null;
                }
                bytes[octet++] = (byte) value;
                value = -1;
                digits = 0;
            } else {
                return null;
            }
        }
        if (octet != 3 || digits == 0 || value > 255) {
            return null;
        }
        bytes[3] = (byte) value;
        return bytes;
    }

    /**
     * IPv4 in the older decimal shorthand the platform's parser took, and so policies stored
     * before this parser may hold: "a", "a.b" and "a.b.c", the last part filling the bytes left
     * ("192.168.1" is 192.168.0.1). No leading zeros (the platform refuses them as ambiguous).
     * Null for anything else.
     */
    private static byte[] shorthand(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length > 3 || text.isEmpty()) {
            return null;
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.length() > 10 || part.length() > 1 && part.charAt(0) == '0') {
                return null;
            }
            for (int c = 0; c < part.length(); c++) {
                if (part.charAt(c) < '0' || part.charAt(c) > '9') {
                    return null;
                }
            }
            values[i] = Long.parseLong(part);
        }
        int leading = parts.length - 1;
        long last = values[leading];
        if (last >= 1L << (8 * (4 - leading))) {
            return null;
        }
        long address = 0;
        for (int i = 0; i < leading; i++) {
            if (values[i] > 255) {
                return null;
            }
            address |= values[i] << (8 * (3 - i));
        }
        address |= last;
        return new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
    }

    /**
     * Any other literal (IPv6, IPv4-mapped IPv6). Never a name: the platform's parser would look
     * up anything that is not a literal in DNS ("fd00/16", "abc/8"), from a policy a client sent.
     */
    private static byte[] address(String host, String text) {
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean hex = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
            if (!hex && c != ':' && c != '.') {
                throw new IllegalArgumentException("'" + text + "' is not a CIDR");
            }
        }
        try {
            return InetAddresses.forString(host).getAddress();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR");
        }
    }

    /** ASCII digits only: no sign, no other script's digits, at most three of them. */
    private static int prefixLength(String text, int from) {
        int length = text.length() - from;
        if (length < 1 || length > 3) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR");
        }
        int value = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("'" + text + "' is not a CIDR");
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    public boolean ipv4() {
        return address.length == 4;
    }

    /** True when other lies within this prefix (equal included). */
    public boolean contains(Cidr other) {
        if (other.address.length != address.length || other.length < length) {
            return false;
        }
        int whole = length / 8;
        for (int i = 0; i < whole; i++) {
            if (address[i] != other.address[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (address[whole] & mask) == (other.address[whole] & mask);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.length == length && java.util.Arrays.equals(c.address, address);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(address) * 31 + length;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(address).getHostAddress() + "/" + length;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
