package dev.weir.alerting.delivery;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Refuses webhook URLs that point at this host or its neighbours' metadata: loopback,
 * link-local (169.254.0.0/16, fe80::/10, where cloud metadata services answer), the unspecified
 * address, multicast and the metadata addresses by name; checked when a receiver is saved and again
 * before each delivery (DNS may change its answer). An operator may allow them
 * (weir.alerting.allow-private-receivers), e.g. for a receiver on the same host.
 */
public final class AddressGuard {

    private final boolean allowPrivate;

    public AddressGuard(boolean allowPrivate) {
        this.allowPrivate = allowPrivate;
    }

    /** @return null when the URL may be called, else why not */
    public String refusal(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return "not a URL: " + e.getMessage();
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            return "only http and https URLs are called";
        }
        if (uri.getHost() == null) {
            return "the URL names no host";
        }
        if (allowPrivate) {
            return null;
        }
        String host = uri.getHost().toLowerCase(java.util.Locale.ROOT);
        if (host.equals("metadata.google.internal") || host.equals("metadata")) {
            return "a cloud metadata service";
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (address.isLoopbackAddress() || address.isLinkLocalAddress() || address.isAnyLocalAddress()
                        || address.isMulticastAddress() || address.getHostAddress().equals("fd00:ec2:0:0:0:0:0:254")) {
                    return host + " resolves to " + address.getHostAddress()
                            + " (loopback, link-local or metadata): refused unless weir.alerting.allow-private-receivers";
                }
            }
        } catch (UnknownHostException e) {
            return null; // unresolvable now: delivery retries, and checks again then
        }
        return null;
    }
}
