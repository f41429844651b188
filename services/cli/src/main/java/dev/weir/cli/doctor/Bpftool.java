package dev.weir.cli.doctor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a node's datapath state with the kernel's own tools (bpftool's JSON output, /proc and
 * /sys), as root, for {@link NodeChecks}.
 */
public final class Bpftool {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Bpftool() {
    }

    public static NodeState read(Path pinRoot) throws IOException, InterruptedException {
        boolean mounted = Files.readAllLines(Path.of("/proc/mounts")).stream()
                .map(l -> l.split(" ")).anyMatch(f -> f.length > 2 && f[1].equals("/sys/fs/bpf") && f[2].equals("bpf"));
        boolean exists = Files.isDirectory(pinRoot);
        List<String> pinned = new ArrayList<>();
        if (exists) {
            try (Stream<Path> files = Files.list(pinRoot)) {
                files.forEach(p -> pinned.add(p.getFileName().toString()));
            }
        }
        Map<Integer, Integer> endpoints = new TreeMap<>();
        List<NodeState.MapFill> maps = new ArrayList<>();
        if (pinned.contains("weir_endpoints")) {
            for (JsonNode entry : run("map", "dump", "pinned", pinRoot.resolve("weir_endpoints").toString())) {
                endpoints.put((int) littleEndian(entry.get("key"), 0), (int) littleEndian(entry.get("value"), 0));
            }
        }
        for (String name : NodeChecks.PRESSURE_CHECKED) {
            if (pinned.contains(name)) {
                JsonNode info = run("map", "show", "pinned", pinRoot.resolve(name).toString());
                long entries = run("map", "dump", "pinned", pinRoot.resolve(name).toString()).size();
                maps.add(new NodeState.MapFill(name, entries, info.path("max_entries").asLong()));
            }
        }
        List<NodeState.Attachment> attachments = new ArrayList<>();
        for (JsonNode section : run("net", "show")) {
            for (JsonNode tc : section.path("tc")) {
                attachments.add(new NodeState.Attachment(tc.path("ifindex").asInt(), tc.path("devname").asString(),
                        tc.path("kind").asString(), tc.path("name").asString()));
            }
        }
        return new NodeState(mounted, exists, pinned, endpoints, attachments, maps, interfaces());
    }

    /** Interfaces of this network namespace: index to name. */
    static Map<Integer, String> interfaces() throws IOException {
        Map<Integer, String> interfaces = new HashMap<>();
        try (Stream<Path> devices = Files.list(Path.of("/sys/class/net"))) {
            for (Path device : devices.toList()) {
                try {
                    interfaces.put(Integer.parseInt(Files.readString(device.resolve("ifindex")).trim()),
                            device.getFileName().toString());
                } catch (IOException | NumberFormatException e) {
                    // the interface went away while we looked
                }
            }
        }
        return interfaces;
    }

    /** A u32 from bpftool's hex byte array ("0x05", ...), little-endian as on x86 and arm64. */
    static long littleEndian(JsonNode bytes, int offset) {
        long value = 0;
        for (int i = 3; i >= 0; i--) {
            value = (value << 8) | Integer.decode(bytes.get(offset + i).asString());
        }
        return value;
    }

    static JsonNode run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bpftool", "-j"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
        return JSON.readTree(out);
    }
}
