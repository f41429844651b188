package dev.weir.agent.datapath;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IP prefix of the ipcache, e.g. 198.18.0.10/32 or 2001:db8::/64. */
public record Prefix(InetAddress address, int length) {

    public Prefix {
        int max = address instanceof Inet4Address ? 32 : 128;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length " + length + " out of 0.." + max);
        }
    }

    /** Parses "address/length"; a bare address is a host prefix. */
    public static Prefix parse(String text) {
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        if (!host.matches("[0-9a-fA-F:.]+")) {
            throw new IllegalArgumentException("not an IP prefix: " + text);
        }
        try {
            InetAddress address = InetAddress.getByName(host);
            int length = slash < 0 ? (address instanceof Inet4Address ? 32 : 128)
                    : Integer.parseInt(text.substring(slash + 1));
            return new Prefix(address, length);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("not an IP prefix: " + text, e);
        }
    }

    public boolean ipv4() {
        return address instanceof Inet4Address;
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
