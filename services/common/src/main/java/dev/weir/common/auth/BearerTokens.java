package dev.weir.common.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The API tokens a Weir component accepts, each with a name (the author of what it changes) and a
 * scope. A token is known by its SHA-256 only, so the file that lists them (the tokens file, one
 * {@code NAME SCOPE sha256:HEX} per line) can sit on every node without handing anyone a usable
 * credential. Tokens are compared in constant time, never logged or echoed.
 */
public final class BearerTokens {

    /** Who called, and what they may do. */
    public record Caller(String name, Scope scope) {
        public boolean may(Scope needed) {
            return scope.granted().contains(needed);
        }
    }

    private record Entry(String name, Scope scope, byte[] sha256) {
    }

    private final List<Entry> entries;

    private BearerTokens(List<Entry> entries) {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("no API token is configured");
        }
        this.entries = List.copyOf(entries);
    }

    /** One token with the admin scope, named "admin" (the single token of the earlier releases). */
    public BearerTokens(String token) {
        this(List.of(entry("admin", Scope.ADMIN, token)));
    }

    /**
     * The tokens of the admin token file (a token in clear, scope admin) and of the tokens file
     * (hashes with names and scopes); either may be null, not both.
     */
    public static BearerTokens load(Path adminTokenFile, Path tokensFile) throws IOException {
        List<Entry> entries = new ArrayList<>();
        if (adminTokenFile != null) {
            entries.add(entry("admin", Scope.ADMIN, Files.readString(adminTokenFile, StandardCharsets.UTF_8).trim()));
        }
        if (tokensFile != null) {
            List<String> lines = Files.readAllLines(tokensFile, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                entries.add(parse(line, tokensFile + ":" + (i + 1)));
            }
        }
        return new BearerTokens(entries);
    }

    /** A tokens file line for the token: what the operator writes to grant it. */
    public static String line(String name, Scope scope, String token) {
        return name + " " + scope.name().toLowerCase(java.util.Locale.ROOT) + " sha256:"
                + HexFormat.of().formatHex(sha256(token));
    }

    private static Entry parse(String line, String where) {
        String[] fields = line.split("\\s+");
        if (fields.length != 3 || !fields[2].startsWith("sha256:") || fields[2].length() != 7 + 64
                || !fields[0].matches("[A-Za-z0-9._@:-]{1,128}")) {
            throw new IllegalArgumentException(where + ": expected NAME SCOPE sha256:HEX (64 hex digits)");
        }
        try {
            return new Entry(fields[0], Scope.parse(fields[1]), HexFormat.of().parseHex(fields[2].substring(7)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static Entry entry(String name, Scope scope, String token) {
        if (token == null || token.length() < 16) {
            throw new IllegalArgumentException("an API token of at least 16 characters is required");
        }
        return new Entry(name, scope, sha256(token));
    }

    /** The caller a bearer token (the token itself, without "Bearer ") belongs to. */
    public Optional<Caller> caller(String token) {
        if (token == null || token.isEmpty() || token.length() > 512) {
            return Optional.empty();
        }
        byte[] presented = sha256(token);
        Entry match = null;
        for (Entry entry : entries) {
            // Every entry is compared, so the time taken does not say which one matched.
            if (MessageDigest.isEqual(entry.sha256(), presented) && match == null) {
                match = entry;
            }
        }
        return match == null ? Optional.empty() : Optional.of(new Caller(match.name(), match.scope()));
    }

    /** The caller of an Authorization header's value ("Bearer TOKEN"). */
    public Optional<Caller> callerOfHeader(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        return caller(authorization.substring(7).trim());
    }

    /** True when the Authorization header value carries a token that may read. */
    public boolean accepts(String authorization) {
        return callerOfHeader(authorization).filter(c -> c.may(Scope.READ)).isPresent();
    }

    /** The scopes of every token, for a check that a set is what it should be. */
    public Set<String> names() {
        Set<String> names = new java.util.TreeSet<>();
        entries.forEach(e -> names.add(e.name()));
        return names;
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
