package dev.weir.agent.datapath;

/**
 * A key of an endpoint's policy map: remote identity (0: any), destination port (0: any),
 * IANA protocol (0: any) and direction ({@link MapLayout#DIR_INGRESS} or {@link MapLayout#DIR_EGRESS}).
 */
public record PolicyKey(int identity, int port, int protocol, int direction) {

    public PolicyKey {
        if (port < 0 || port > 65535 || protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("port " + port + " or protocol " + protocol + " out of range");
        }
        if (direction != MapLayout.DIR_INGRESS && direction != MapLayout.DIR_EGRESS) {
            throw new IllegalArgumentException("direction must be ingress (1) or egress (2), not " + direction);
        }
    }
}
