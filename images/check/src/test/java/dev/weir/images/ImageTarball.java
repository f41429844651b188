package dev.weir.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * An image tarball in `docker save` format (what Jib's buildTar writes), read with the system's
 * tar: the manifest, the image config and the layers' file lists.
 */
final class ImageTarball {

    final Path directory;
    final String repoTag;
    final Map<String, Object> config;
    final List<Path> layers;

    private ImageTarball(Path directory, String repoTag, Map<String, Object> config, List<Path> layers) {
        this.directory = directory;
        this.repoTag = repoTag;
        this.config = config;
        this.layers = layers;
    }

    /** The image a component module built: {@code <module>/target/jib-image.tar}, unpacked into scratch. */
    static ImageTarball of(String module, Path scratch) throws IOException, InterruptedException {
        Path tar = root().resolve(module).resolve("target/jib-image.tar");
        if (!Files.isRegularFile(tar)) {
            throw new IllegalStateException(tar + " was not built: package " + module + " first");
        }
        Path dir = Files.createDirectories(scratch.resolve(module.replace('/', '-')));
        run(List.of("tar", "-xf", tar.toString(), "-C", dir.toString()));
        List<Object> manifest = load(dir.resolve("manifest.json"));
        @SuppressWarnings("unchecked")
        Map<String, Object> entry = (Map<String, Object>) manifest.get(0);
        Map<String, Object> config = load(dir.resolve((String) entry.get("Config")));
        List<Path> layers = new ArrayList<>();
        for (Object layer : (List<?>) entry.get("Layers")) {
            layers.add(dir.resolve((String) layer));
        }
        return new ImageTarball(dir, (String) ((List<?>) entry.get("RepoTags")).get(0), config, layers);
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.exists(dir.resolve("images/base/build-base.sh"))) {
            dir = dir.getParent();
        }
        return dir;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> containerConfig() {
        return (Map<String, Object>) config.get("config");
    }

    @SuppressWarnings("unchecked")
    List<String> list(String key) {
        Object value = containerConfig().get(key);
        return value == null ? List.of() : (List<String>) value;
    }

    String env(String name) {
        return list("Env").stream().filter(e -> e.startsWith(name + "=")).map(e -> e.substring(name.length() + 1))
                .findFirst().orElse(null);
    }

    /** Every path in the image's file system, as "/a/b" (directories without a trailing slash). */
    Set<String> files() throws IOException, InterruptedException {
        Set<String> files = new LinkedHashSet<>();
        for (Path layer : layers) {
            for (String line : run(List.of("tar", "-tzf", layer.toString())).split("\n")) {
                String name = line.startsWith("./") ? line.substring(1) : (line.startsWith("/") ? line : "/" + line);
                files.add(name.endsWith("/") && name.length() > 1 ? name.substring(0, name.length() - 1) : name);
            }
        }
        return files;
    }

    /** One file's content, from the last layer that has it. */
    String read(String path) throws IOException, InterruptedException {
        String content = null;
        for (Path layer : layers) {
            String listing = run(List.of("tar", "-tzf", layer.toString()));
            for (String name : listing.split("\n")) {
                if (name.equals(path) || name.equals("." + path) || name.equals(path.substring(1))) {
                    content = run(List.of("tar", "-xzOf", layer.toString(), name));
                }
            }
        }
        if (content == null) {
            throw new IllegalStateException(path + " is not in " + repoTag);
        }
        return content;
    }

    /** Unpacks every layer, in order, into a root file system. */
    void unpack(Path rootfs) throws IOException, InterruptedException {
        Files.createDirectories(rootfs);
        for (Path layer : layers) {
            run(List.of("tar", "-xzpf", layer.toString(), "-C", rootfs.toString()));
        }
    }

    @SuppressWarnings("unchecked")
    static <T> T load(Path json) throws IOException {
        return (T) new Load(LoadSettings.builder().build()).loadFromString(Files.readString(json));
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        // stderr apart: tar warns about libarchive's extended headers in Jib's layers.
        Path errors = Files.createTempFile("weir-image-", ".err");
        try {
            Process process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
            byte[] out = process.getInputStream().readAllBytes();
            if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8)
                        + Files.readString(errors));
            }
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(errors);
        }
    }
}
