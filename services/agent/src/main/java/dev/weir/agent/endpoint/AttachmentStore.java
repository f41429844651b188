package dev.weir.agent.endpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The attachments this node's agent made, on disk under its state directory, so that a restarted
 * agent knows which interfaces are pods (the runtime does not tell it again) and with which
 * endpoint id. A record is written before the programs are attached and removed after they are
 * detached: an interface with Weir's programs always has a record, a record may outlive its pod
 * (and is then removed as a leftover).
 */
public final class AttachmentStore {

    private static final Logger LOG = LoggerFactory.getLogger(AttachmentStore.class);

    /** An attachment with the endpoint id the datapath knows it by. */
    public record Stored(Attachment attachment, int endpointId) {
    }

    private final Path dir;

    public AttachmentStore(Path stateDir) throws IOException {
        this.dir = stateDir.resolve("endpoints");
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    public void save(Attachment a, int endpointId) throws IOException {
        Properties p = new Properties();
        p.setProperty("containerId", a.containerId());
        p.setProperty("ifname", a.ifname());
        p.setProperty("netns", a.netns());
        p.setProperty("network", a.network());
        p.setProperty("namespace", a.namespace());
        p.setProperty("pod", a.pod());
        p.setProperty("hostInterface", a.hostInterface());
        p.setProperty("ifindex", Integer.toString(a.ifindex()));
        if (a.ipv4() != null) {
            p.setProperty("ipv4", a.ipv4());
        }
        if (a.ipv6() != null) {
            p.setProperty("ipv6", a.ipv6());
        }
        p.setProperty("ownsInterface", Boolean.toString(a.ownsInterface()));
        p.setProperty("endpointId", Integer.toString(endpointId));
        Path file = file(a.key());
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            p.store(out, null);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    public void remove(String key) throws IOException {
        Files.deleteIfExists(file(key));
    }

    /**
     * Every record. One that cannot be read is moved aside (to *.unreadable, for whoever looks
     * into it) and its interface is then one no record explains: closed, never opened.
     * Half-written files of a crash are removed.
     */
    public List<Stored> all() throws IOException {
        List<Stored> found = new ArrayList<>();
        List<Path> files;
        try (var listing = Files.list(dir)) {
            files = listing.toList();
        }
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (name.endsWith(".tmp")) {
                Files.deleteIfExists(file);
                continue;
            }
            if (!name.endsWith(".attachment")) {
                continue;
            }
            try {
                found.add(read(file));
            } catch (IOException | RuntimeException e) {
                LOG.warn("attachment record {} cannot be read ({}); moved aside", name, e.toString());
                try {
                    Files.move(file, dir.resolve(name + ".unreadable"), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException moving) {
                    LOG.warn("moving {} aside: {}", name, moving.toString());
                }
            }
        }
        return found;
    }

    private static Stored read(Path file) throws IOException {
        if (!Files.isRegularFile(file) || Files.size(file) > 64 * 1024) {
            throw new IOException("not a record file");
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        return new Stored(new Attachment(p.getProperty("containerId"), p.getProperty("ifname"), p.getProperty("netns"),
                p.getProperty("network"), p.getProperty("namespace"), p.getProperty("pod"),
                p.getProperty("hostInterface"), Integer.parseInt(p.getProperty("ifindex")), p.getProperty("ipv4"),
                p.getProperty("ipv6"), Boolean.parseBoolean(p.getProperty("ownsInterface"))),
                Integer.parseInt(p.getProperty("endpointId")));
    }

    /** File names from the key: runtime ids are hex, interface names short; anything else is encoded. */
    private Path file(String key) {
        StringBuilder name = new StringBuilder();
        for (byte b : key.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
                name.append(c);
            } else {
                name.append('_').append(String.format("%02x", b & 0xff));
            }
        }
        return dir.resolve(name + ".attachment");
    }
}
