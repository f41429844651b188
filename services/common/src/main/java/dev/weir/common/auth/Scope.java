package dev.weir.common.auth;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * What a caller of Weir's APIs may do. Each scope includes the ones before it: read (flows,
 * metrics, status, explain, previews), write (policies, silences, receivers, rules), admin
 * (everything, the service's management endpoints included).
 */
public enum Scope {
    READ, WRITE, ADMIN;

    /** This scope and every scope it includes. */
    public Set<Scope> granted() {
        return EnumSet.range(READ, this);
    }

    /** The authority Spring Security checks for this scope (as OAuth2 scopes are named). */
    public String authority() {
        return "SCOPE_" + name().toLowerCase(Locale.ROOT);
    }

    public static Scope parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not a scope (read, write or admin)");
        }
    }
}
