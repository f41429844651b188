package dev.weir.common.web;

import dev.weir.common.auth.BearerTokens;
import dev.weir.common.auth.Scope;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.server.resource.introspection.BadOpaqueTokenException;
import org.springframework.security.oauth2.server.resource.introspection.OAuth2IntrospectionAuthenticatedPrincipal;
import org.springframework.security.oauth2.server.resource.introspection.OpaqueTokenIntrospector;
import org.springframework.security.web.SecurityFilterChain;

/**
 * The security every Weir REST API shares, on Spring Security's resource server: a request
 * carries a bearer token, the token's scope decides what it may do, and its name is the author
 * of what it changes.
 * <ul>
 * <li>health probes: anyone (orchestrators call them without credentials), and the paths a
 * service names public ({@code weir.public-paths}, the web UI's static files);</li>
 * <li>reads (GET, and the POSTs that only compute: impact previews, explain) and the Prometheus
 * scrape: the read scope;</li>
 * <li>every other change (policies, silences, inhibitions, receivers, rules): the write scope;</li>
 * <li>the other management endpoints: the admin scope.</li>
 * </ul>
 * Tokens come from {@code weir.api-token-file} (one token in clear, admin) and
 * {@code weir.api-tokens-file} (names, scopes and SHA-256 hashes). Request bodies are capped at
 * {@code weir.max-request-bytes} before anything reads them.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
@org.springframework.context.annotation.Import({ApiProblems.class, ApiParameters.class, ApiDocuments.class})
public class ApiSecurity {

    /** Reads that show where data goes (webhook URLs, which may carry credentials): the write scope. */
    public static final List<String> WRITE_SCOPE_READS = List.of("/api/v1/alerting/receivers",
            "/api/v1/alerting/receivers/**");

    /** POSTs that change nothing: a read-scope token may call them. */
    public static final List<String> READ_ONLY_POSTS = List.of("/api/v1/policies/preview", "/api/v1/explain",
            "/api/v1/policies/parse");

    @Bean
    BearerTokens apiTokens(@Value("${weir.api-token-file:}") String adminTokenFile,
            @Value("${weir.api-tokens-file:}") String tokensFile) throws IOException {
        return BearerTokens.load(adminTokenFile.isBlank() ? null : Path.of(adminTokenFile),
                tokensFile.isBlank() ? null : Path.of(tokensFile));
    }

    /** Tokens are checked here, locally, against their hashes: no introspection endpoint is called. */
    @Bean
    OpaqueTokenIntrospector apiTokenIntrospector(BearerTokens tokens) {
        return token -> tokens.caller(token).map(caller -> {
            List<GrantedAuthority> authorities = new ArrayList<>();
            for (Scope scope : caller.scope().granted()) {
                authorities.add(new SimpleGrantedAuthority(scope.authority()));
            }
            return new OAuth2IntrospectionAuthenticatedPrincipal(caller.name(),
                    Map.of("sub", caller.name(), "scope", caller.scope().name().toLowerCase(java.util.Locale.ROOT)),
                    authorities);
        }).orElseThrow(() -> new BadOpaqueTokenException("the token is not one this service accepts"));
    }

    @Bean
    SecurityFilterChain apiFilterChain(HttpSecurity http, OpaqueTokenIntrospector introspector,
            @Value("${weir.public-paths:}") List<String> publicPaths,
            @Value("${weir.hsts-max-age:365d}") java.time.Duration hstsMaxAge) throws Exception {
        // HSTS binds a whole host name: ./weir up turns it off, so that one visit to
        // https://localhost:8084 does not force every other localhost port onto TLS for a year.
        http.headers(headers -> headers.httpStrictTransportSecurity(hsts -> {
            if (hstsMaxAge.isZero()) {
                hsts.disable();
            } else {
                hsts.maxAgeInSeconds(hstsMaxAge.toSeconds()).includeSubDomains(false);
            }
        }));
        http.csrf(csrf -> csrf.disable()) // no cookies, no sessions: a bearer token cannot be forged cross-site
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(cache -> cache.disable())
                .formLogin(form -> form.disable())
                .httpBasic(basic -> basic.disable())
                .authorizeHttpRequests(auth -> {
                    // An error page shows what the request that failed was already allowed to see.
                    auth.dispatcherTypeMatchers(jakarta.servlet.DispatcherType.ERROR).permitAll();
                    auth.requestMatchers("/actuator/health", "/actuator/health/**").permitAll();
                    for (String path : publicPaths) {
                        if (!path.isBlank()) {
                            auth.requestMatchers(HttpMethod.GET, path.trim()).permitAll();
                        }
                    }
                    auth.requestMatchers(HttpMethod.GET, "/actuator/prometheus").hasAuthority(Scope.READ.authority());
                    auth.requestMatchers("/actuator/**").hasAuthority(Scope.ADMIN.authority());
                    auth.requestMatchers(HttpMethod.GET, WRITE_SCOPE_READS.toArray(String[]::new))
                            .hasAuthority(Scope.WRITE.authority());
                    auth.requestMatchers(HttpMethod.GET).hasAuthority(Scope.READ.authority());
                    auth.requestMatchers(HttpMethod.HEAD).hasAuthority(Scope.READ.authority());
                    auth.requestMatchers(HttpMethod.POST, READ_ONLY_POSTS.toArray(String[]::new))
                            .hasAuthority(Scope.READ.authority());
                    auth.anyRequest().hasAuthority(Scope.WRITE.authority());
                })
                .oauth2ResourceServer(server -> server.opaqueToken(opaque -> opaque.introspector(introspector)));
        return http.build();
    }

    @Bean
    FilterRegistrationBean<RequestBodyLimit> requestBodyLimit(
            @Value("${weir.max-request-bytes:" + RequestBodyLimit.DEFAULT_MAX_BYTES + "}") long maxBytes) {
        FilterRegistrationBean<RequestBodyLimit> registration = new FilterRegistrationBean<>(new RequestBodyLimit(maxBytes));
        // Before Spring Security and everything else: an oversized body is refused unread.
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }
}
