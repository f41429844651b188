package dev.weir.platform;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Secrets of the embedded platform, generated once and kept in files only the owner can read.
 * Their values never go to a log: print {@link #redact(String)} instead.
 */
final class Secrets {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;

    Secrets(Path directory) {
        this.directory = directory;
    }

    /** The secret stored under the name, created on first use. */
    String getOrCreate(String name, String prefix) throws IOException {
        Path file = directory.resolve(name);
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String secret = prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Path temporary = Files.createTempFile(directory, name, ".tmp");
        Files.writeString(temporary, secret + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
        Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return secret;
    }

    /** Writes the named file (not secret itself, but kept with the secrets), replacing it whole. */
    void write(String name, String content) throws IOException {
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        Path temporary = Files.createTempFile(directory, name, ".tmp");
        Files.writeString(temporary, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
        Files.move(temporary, directory.resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    Path path(String name) {
        return directory.resolve(name);
    }

    /** Enough of a secret to tell two apart, not enough to use it. */
    static String redact(String secret) {
        return secret.length() <= 8 ? "****" : secret.substring(0, 7) + "…";
    }
}
