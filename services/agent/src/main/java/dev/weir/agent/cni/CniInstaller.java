package dev.weir.agent.cni;

import dev.weir.agent.datapath.NativeArtifacts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Installs weir-cni on a node the way the agent's init container runs it: the plugin binary into
 * the runtime's plugin directory, and a network configuration the runtime picks first (by name).
 * Chained, it copies the primary plugin's configuration and appends weir-cni to its plugins, and
 * waits (fails, to be retried) until the primary plugin has written one; standalone, it writes
 * weir-cni with host-local for the node's pod subnet. Both files are replaced atomically, so the
 * runtime never reads half of one.
 *
 * <pre>
 * CniInstaller install   --bin-dir DIR --conf-dir DIR [--mode chained|standalone] [--subnet CIDR] [--route CIDR]
 * CniInstaller uninstall --bin-dir DIR --conf-dir DIR
 * </pre>
 */
public final class CniInstaller {

    /** Sorts before every common primary plugin's file (10-calico, 10-flannel, 10-containerd-net, 87-podman). */
    public static final String CONFIG = "00-weir.conflist";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private CniInstaller() {
    }

    /** What went wrong, in words for the init container's log. */
    static final class InstallException extends Exception {
        InstallException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) throws IOException {
        try {
            System.out.println(run(args));
        } catch (InstallException | IllegalArgumentException e) {
            System.err.println("weir-cni install: " + e.getMessage());
            System.exit(1);
        }
    }

    static String run(String[] args) throws IOException, InstallException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: install|uninstall --bin-dir DIR --conf-dir DIR ...");
        }
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected an option, got " + args[i]);
            }
            options.put(args[i].substring(2), args[i + 1]);
        }
        Path binDir = Path.of(require(options, "bin-dir"));
        Path confDir = Path.of(require(options, "conf-dir"));
        return switch (args[0]) {
            case "install" -> install(NativeArtifacts.cniPlugin(), binDir, confDir, options.getOrDefault("mode", "chained"),
                    options.get("subnet"), options.getOrDefault("route", "0.0.0.0/0"));
            case "uninstall" -> uninstall(binDir, confDir);
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        };
    }

    static String install(Path plugin, Path binDir, Path confDir, String mode, String subnet, String route)
            throws IOException, InstallException {
        Files.createDirectories(binDir);
        Files.createDirectories(confDir);
        Path tmp = binDir.resolve(".weir-cni.tmp");
        Files.copy(plugin, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        move(tmp, binDir.resolve("weir-cni"));
        ObjectNode config = switch (mode) {
            case "chained" -> chained(confDir);
            case "standalone" -> standalone(subnet, route);
            default -> throw new IllegalArgumentException("--mode is chained or standalone, not " + mode);
        };
        Path out = confDir.resolve(".weir.conflist.tmp");
        Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n",
                StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rw-r--r--"));
        move(out, confDir.resolve(CONFIG));
        return "weir-cni installed (" + mode + "): " + binDir.resolve("weir-cni") + ", " + confDir.resolve(CONFIG);
    }

    /** The primary plugin's network with weir-cni appended to its chain. */
    static ObjectNode chained(Path confDir) throws IOException, InstallException {
        List<Path> candidates = new ArrayList<>();
        try (var files = Files.list(confDir)) {
            files.filter(f -> {
                String name = f.getFileName().toString();
                return !name.equals(CONFIG) && !name.startsWith(".") && (name.endsWith(".conflist")
                        || name.endsWith(".conf") || name.endsWith(".json"));
            }).sorted(Comparator.comparing(f -> f.getFileName().toString())).forEach(candidates::add);
        }
        if (candidates.isEmpty()) {
            throw new InstallException("no primary plugin configuration in " + confDir + " yet (chained mode runs "
                    + "after one); the init container is retried until there is");
        }
        Path primary = candidates.get(0);
        if (primary.getFileName().toString().compareTo(CONFIG) < 0) {
            throw new InstallException(primary.getFileName() + " sorts before " + CONFIG
                    + ": the runtime would keep using it; rename it or use standalone mode");
        }
        JsonNode source;
        try {
            source = JSON.readTree(Files.readString(primary));
        } catch (RuntimeException e) {
            throw new InstallException(primary + " is not valid JSON");
        }
        if (source == null || !source.isObject()) {
            throw new InstallException(primary + " is not a network configuration");
        }
        String version = source.path("cniVersion").asString("");
        if (!CniHandler.VERSIONS.contains(version)) {
            throw new InstallException(primary + " asks for CNI " + version + "; weir-cni speaks "
                    + CniHandler.VERSIONS.stream().sorted().toList());
        }
        ObjectNode config = JSON.createObjectNode();
        config.put("cniVersion", version);
        config.put("name", source.path("name").asString("pods"));
        ArrayNode plugins = config.putArray("plugins");
        if (source.has("plugins")) {
            for (JsonNode p : source.path("plugins")) {
                if (!"weir-cni".equals(p.path("type").asString(""))) {
                    plugins.add(p);
                }
            }
        } else {
            ObjectNode single = ((ObjectNode) source).deepCopy();
            single.remove("cniVersion");
            single.remove("name");
            plugins.add(single);
        }
        plugins.addObject().put("type", "weir-cni");
        return config;
    }

    /** weir-cni alone, with host-local for the node's pod subnet. */
    static ObjectNode standalone(String subnet, String route) {
        if (subnet == null || !subnet.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}")) {
            throw new IllegalArgumentException("standalone mode needs --subnet, this node's IPv4 pod CIDR");
        }
        ObjectNode config = JSON.createObjectNode();
        config.put("cniVersion", "1.0.0");
        config.put("name", "weir");
        ObjectNode weir = config.putArray("plugins").addObject();
        weir.put("type", "weir-cni");
        ObjectNode ipam = weir.putObject("ipam");
        ipam.put("type", "host-local");
        ipam.putArray("ranges").addArray().addObject().put("subnet", subnet);
        ipam.putArray("routes").addObject().put("dst", route);
        return config;
    }

    /** Removes Weir's configuration (only if it is Weir's) and the plugin binary. */
    static String uninstall(Path binDir, Path confDir) throws IOException {
        Path config = confDir.resolve(CONFIG);
        if (Files.exists(config) && Files.readString(config).contains("\"weir-cni\"")) {
            Files.delete(config);
        }
        Files.deleteIfExists(binDir.resolve("weir-cni"));
        return "weir-cni removed from " + binDir + " and " + confDir;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String require(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return value;
    }
}
