package dev.weir.common.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Checks bearer tokens in constant time; never logs or echoes them. */
public final class BearerTokens {

    private final byte[] expected;

    public BearerTokens(String token) {
        if (token == null || token.length() < 16) {
            throw new IllegalArgumentException("an API token of at least 16 characters is required");
        }
        this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }

    /** True when the Authorization header value carries the token. */
    public boolean accepts(String authorization) {
        if (authorization == null) {
            return false;
        }
        return MessageDigest.isEqual(expected, authorization.getBytes(StandardCharsets.UTF_8));
    }
}
