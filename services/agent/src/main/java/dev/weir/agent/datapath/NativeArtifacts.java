package dev.weir.agent.datapath;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * libweir.so, the datapath object and the CNI plugin, as the agent finds them: in a directory named by
 * {@code weir.native.dir} (an installed agent, a container image) or else packaged in the
 * weir-agent-native jar on the class path, extracted once to a private temporary directory.
 */
public final class NativeArtifacts {

    public static final String LIBRARY = "libweir.so";
    public static final String OBJECT = "weir.bpf.o";
    /** The CNI plugin the container runtime runs; the chart's init container copies it to /opt/cni/bin. */
    public static final String CNI_PLUGIN = "weir-cni";

    private static Path extracted;

    private NativeArtifacts() {
    }

    public static Path library() {
        return locate(LIBRARY);
    }

    public static Path datapathObject() {
        return locate(OBJECT);
    }

    public static Path cniPlugin() {
        return locate(CNI_PLUGIN);
    }

    private static Path locate(String name) {
        String dir = System.getProperty("weir.native.dir");
        if (dir != null) {
            Path path = Path.of(dir, name);
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException(path + " does not exist (weir.native.dir)");
            }
            return path;
        }
        return extract().resolve(name);
    }

    private static synchronized Path extract() {
        if (extracted != null) {
            return extracted;
        }
        String base = "native/linux-" + System.getProperty("os.arch") + "/";
        try {
            Path dir = Files.createTempDirectory("weir-native-");
            dir.toFile().deleteOnExit();
            for (String name : new String[] {LIBRARY, OBJECT, CNI_PLUGIN}) {
                try (InputStream in = NativeArtifacts.class.getClassLoader().getResourceAsStream(base + name)) {
                    if (in == null) {
                        throw new IllegalStateException(base + name + " is not on the class path: "
                                + "build agent-native (make) or set weir.native.dir");
                    }
                    Path target = dir.resolve(name);
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                    target.toFile().deleteOnExit();
                    if (name.equals(CNI_PLUGIN)) {
                        target.toFile().setExecutable(true, true);
                    }
                }
            }
            extracted = dir;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
