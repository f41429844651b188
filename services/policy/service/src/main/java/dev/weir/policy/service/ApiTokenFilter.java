package dev.weir.policy.service;

import dev.weir.common.auth.BearerTokens;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.file.Files;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/** Every /api request carries the API token as a bearer token; health probes need none. */
@Component
public class ApiTokenFilter extends OncePerRequestFilter {

    private final BearerTokens tokens;

    public ApiTokenFilter(PolicyServiceProperties properties) throws IOException {
        this.tokens = new BearerTokens(Files.readString(properties.apiTokenFile()).trim());
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return path.equals("/actuator/health") || path.startsWith("/actuator/health/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!tokens.accepts(request.getHeader("Authorization"))) {
            response.setStatus(401);
            response.setContentType("application/json");
            response.getWriter().write("{\"error\":\"a bearer token is required\"}");
            return;
        }
        chain.doFilter(request, response);
    }
}
