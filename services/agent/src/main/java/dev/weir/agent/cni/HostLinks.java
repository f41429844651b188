package dev.weir.agent.cni;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The node's links as the kernel describes them. */
final class HostLinks {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HostLinks() {
    }

    static Optional<Integer> ifindex(String name) {
        try {
            Path file = Path.of("/sys/class/net", name, "ifindex");
            return Files.exists(file) ? Optional.of(Integer.parseInt(Files.readString(file).trim())) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The link's kind ("veth", "bridge", ...) from netlink, as {@code ip -d link} reports it; empty if none. */
    static String kind(String name) {
        try {
            Process ip = new ProcessBuilder("ip", "-j", "-d", "link", "show", "dev", name).redirectErrorStream(true)
                    .start();
            byte[] out = ip.getInputStream().readAllBytes();
            if (!ip.waitFor(10, TimeUnit.SECONDS) || ip.exitValue() != 0) {
                ip.destroyForcibly();
                return "";
            }
            JsonNode links = JSON.readTree(new String(out, StandardCharsets.UTF_8));
            return links.path(0).path("linkinfo").path("info_kind").asString("");
        } catch (IOException | RuntimeException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    static boolean isVeth(String name) {
        return "veth".equals(kind(name));
    }
}
