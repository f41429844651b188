package dev.weir.agent.cni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The node's links as sysfs shows them (no process per CNI call). */
final class HostLinks {

    private HostLinks() {
    }

    static Optional<Integer> ifindex(String name) {
        return dev.weir.agent.endpoint.EndpointManager.interfaceIndex(name);
    }

    /**
     * A veth: a virtual link (no device behind it) without a DEVTYPE (a bridge, a VLAN or a VXLAN
     * has one) whose link index names another interface, its peer (a dummy's names itself). A
     * veth whose peer happens to have the same index in the pod's namespace is refused, which
     * fails the pod's start rather than leaving it unjudged.
     */
    static boolean isVeth(String name) {
        Path dir = Path.of("/sys/class/net", name);
        try {
            if (!Files.isDirectory(dir) || Files.exists(dir.resolve("device")) || Files.exists(dir.resolve("tun_flags"))) {
                return false;
            }
            if (Files.readString(dir.resolve("uevent")).contains("DEVTYPE=")) {
                return false;
            }
            Optional<Integer> own = number(dir.resolve("ifindex"));
            Optional<Integer> peer = number(dir.resolve("iflink"));
            return own.isPresent() && peer.isPresent() && !own.equals(peer);
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Integer> number(Path file) {
        try {
            return Files.exists(file) ? Optional.of(Integer.parseInt(Files.readString(file).trim())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}
