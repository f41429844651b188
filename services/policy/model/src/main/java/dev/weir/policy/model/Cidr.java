package dev.weir.policy.model;

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
        if (!host.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR");
        }
        byte[] bytes;
        int length;
        try {
            bytes = InetAddress.getByName(host).getAddress();
            length = Integer.parseInt(text.substring(slash + 1));
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR");
        }
        if (length < 0 || length > bytes.length * 8) {
            throw new IllegalArgumentException("'" + text + "' has a prefix length out of 0.." + bytes.length * 8);
        }
        for (int bit = length; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
        }
        return new Cidr(bytes, length);
    }

    public static Cidr host(String ip) {
        return parse(ip + (ip.contains(":") ? "/128" : "/32"));
    }

    public boolean ipv4() {
        return address.length == 4;
    }

    /** True when other lies within this prefix (equal included). */
    public boolean contains(Cidr other) {
        if (other.address.length != address.length || other.length < length) {
            return false;
        }
        for (int bit = 0; bit < length; bit++) {
            int mask = 0x80 >> (bit % 8);
            if ((address[bit / 8] & mask) != (other.address[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
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
