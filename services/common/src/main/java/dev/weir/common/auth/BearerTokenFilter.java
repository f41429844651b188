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

/**
 * Every request to a Weir REST API carries the API token as a bearer token (the OpenAPI document
 * and metrics too); only the health probes, which orchestrators call without credentials, do not.
 */
public final class BearerTokenFilter implements Filter {

    private final BearerTokens tokens;

    public BearerTokenFilter(BearerTokens tokens) {
        this.tokens = tokens;
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
        if (!probe && !tokens.accepts(request.getHeader("Authorization"))) {
            response.setStatus(401);
            response.setHeader("WWW-Authenticate", "Bearer");
            response.setContentType("application/json");
            response.getWriter().write("{\"error\":\"a bearer token is required\"}");
            return;
        }
        chain.doFilter(request, response);
    }
}
