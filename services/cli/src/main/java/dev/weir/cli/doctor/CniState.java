package dev.weir.cli.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A node's CNI setup as the container runtime sees it: the network configuration files in the
 * order it reads them (by name, as libcni does: the first one wins), and the plugin binaries in
 * the plugin directories with the CNI versions each one says it speaks.
 *
 * @param configs every *.conf, *.conflist and *.json file, sorted by name, with its text
 * @param plugins plugin name to the versions its VERSION command lists (empty when it gave none)
 */
public record CniState(Path confDir, List<ConfigFile> configs, Map<String, List<String>> plugins) {

    /** Any one file this large is not a network configuration. */
    static final long MAX_CONFIG_BYTES = 1 << 20;

    public record ConfigFile(String name, String text) {
    }

    /** Reads the configuration directory and asks each plugin that a configuration names for its versions. */
    public static CniState read(Path confDir, List<Path> binDirs) throws IOException {
        List<ConfigFile> configs = new ArrayList<>();
        if (Files.isDirectory(confDir)) {
            try (var files = Files.list(confDir)) {
                for (Path file : files.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList()) {
                    String name = file.getFileName().toString();
                    if (Files.isRegularFile(file) && (name.endsWith(".conf") || name.endsWith(".conflist")
                            || name.endsWith(".json"))) {
                        String text = Files.size(file) > MAX_CONFIG_BYTES ? ""
                                : Files.readString(file, StandardCharsets.UTF_8);
                        configs.add(new ConfigFile(name, text));
                    }
                }
            }
        }
        Map<String, List<String>> plugins = new TreeMap<>();
        for (String type : CniChecks.pluginTypes(configs)) {
            binary(binDirs, type).ifPresent(binary -> plugins.put(type, versions(binary)));
        }
        return new CniState(confDir, configs, plugins);
    }

    private static Optional<Path> binary(List<Path> binDirs, String type) {
        if (!type.matches("[A-Za-z0-9_.-]{1,64}")) {
            return Optional.empty();
        }
        return binDirs.stream().map(dir -> dir.resolve(type)).filter(Files::isExecutable).findFirst();
    }

    /** The plugin's supportedVersions, from its VERSION answer; empty when it gives none in 5 s. */
    static List<String> versions(Path binary) {
        try {
            ProcessBuilder builder = new ProcessBuilder(binary.toString());
            builder.environment().put("CNI_COMMAND", "VERSION");
            builder.redirectErrorStream(true);
            Process process = builder.start();
            try (var in = process.getOutputStream()) {
                in.write("{\"cniVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            } catch (IOException exited) {
                // VERSION needs no input: a plugin that answered and exited before reading it is fine.
            }
            byte[] out = process.getInputStream().readNBytes(64 * 1024);
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return List.of();
            }
            var answer = tools.jackson.databind.json.JsonMapper.builder().build().readTree(out);
            List<String> versions = new ArrayList<>();
            answer.path("supportedVersions").forEach(v -> versions.add(v.asString()));
            return versions;
        } catch (IOException | RuntimeException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
