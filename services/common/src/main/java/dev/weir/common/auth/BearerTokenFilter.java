package dev.weir.common.auth;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Every request to a Weir REST API carries the API token as a bearer token (the OpenAPI document
 * and metrics too); only the health probes, which orchestrators call without credentials, do not,
 * and static pages a service names as public (the web UI's files, which hold no data: the UI asks
 * for the token and sends it with every API call).
 */
public final class BearerTokenFilter implements Filter {

    private final BearerTokens tokens;
    private final List<String> publicPrefixes;

    public BearerTokenFilter(BearerTokens tokens) {
        this(tokens, List.of());
    }

    private BearerTokenFilter(BearerTokens tokens, List<String> publicPrefixes) {
        this.tokens = tokens;
        this.publicPrefixes = publicPrefixes;
    }

    /** The same filter, letting requests for paths that start with any of the prefixes through without a token. */
    public BearerTokenFilter allowing(String... prefixes) {
        return new BearerTokenFilter(tokens, List.of(prefixes));
    }

    /** A filter accepting the token held in the file (read once; never logged). */
    public static BearerTokenFilter fromFile(Path tokenFile) throws IOException {
        return new BearerTokenFilter(new BearerTokens(Files.readString(tokenFile).trim()));
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String path = request.getRequestURI();
        boolean probe = path.equals("/actuator/health") || path.startsWith("/actuator/health/");
        boolean open = probe || publicPrefixes.stream().anyMatch(path::startsWith);
        if (!open && !tokens.accepts(request.getHeader("Authorization"))) {
            response.setStatus(401);
            response.setHeader("WWW-Authenticate", "Bearer");
            response.setContentType("application/json");
            response.getWriter().write("{\"error\":\"a bearer token is required\"}");
            return;
        }
        chain.doFilter(request, response);
    }
}
