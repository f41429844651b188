package dev.weir.relay;

import static org.springframework.cloud.gateway.server.mvc.filter.BeforeFilterFunctions.uri;
import static org.springframework.cloud.gateway.server.mvc.handler.GatewayRouterFunctions.route;
import static org.springframework.cloud.gateway.server.mvc.handler.HandlerFunctions.http;
import static org.springframework.web.servlet.function.RequestPredicates.path;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.servlet.function.RouterFunction;
import org.springframework.web.servlet.function.ServerRequest;
import org.springframework.web.servlet.function.ServerResponse;

/**
 * The web UI talks to one origin, the relay: Spring Cloud Gateway passes the calls for the policy,
 * DNS and alerting APIs on to those services (method, path, query, body) with only the caller's
 * token, Content-Type and Accept, after the relay's own security has checked the token's scope.
 * The services check the token again. With weir.tls-bundle the calls trust that bundle's
 * certificates (the services' CA) and no other, and go to https upstreams only.
 */
@Configuration(proxyBeanMethods = false)
public class ApiRoutes {

    /**
     * What a caller's request carries on: no cookies, no forwarding headers a client could forge.
     * (The gateway sets the length of what it sends itself.)
     */
    static final Set<String> FORWARDED = Set.of("authorization", "content-type", "accept");

    @Bean
    RouterFunction<ServerResponse> upstreamRoutes(RelayApplication.RelayProperties properties) {
        return route("policy-api").route(path("/api/v1/policies").or(path("/api/v1/policies/**"))
                        .or(path("/api/v1/explain")), http()).before(uri(properties.policyApi()))
                .before(ApiRoutes::onlyForwardedHeaders).build()
                .and(route("dns-api").route(path("/api/v1/dns/**"), http()).before(uri(properties.dnsApi()))
                        .before(ApiRoutes::onlyForwardedHeaders).build())
                .and(route("alerting-api").route(path("/api/v1/alerting/**"), http()).before(uri(properties.alertingApi()))
                        .before(ApiRoutes::onlyForwardedHeaders).build());
    }

    static ServerRequest onlyForwardedHeaders(ServerRequest request) {
        return ServerRequest.from(request).headers(headers -> {
            List<String> names = new ArrayList<>(headers.headerNames());
            for (String name : names) {
                if (!FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                    headers.remove(name);
                }
            }
        }).build();
    }

    /** The gateway's HTTP client: on TLS, trusting the bundle's CA, and refusing a plaintext upstream. */
    @Bean
    ClientHttpRequestFactory gatewayRequestFactory(RelayApplication.RelayProperties properties, SslBundles bundles) {
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (!properties.tlsBundle().isEmpty()) {
            client.sslContext(bundles.getBundle(properties.tlsBundle()).createSslContext());
            // The caller's token goes with every call: on TLS, never to a plaintext upstream.
            for (URI upstream : List.of(properties.policyApi(), properties.dnsApi(), properties.alertingApi())) {
                if (!"https".equals(upstream.getScheme())) {
                    throw new IllegalArgumentException("weir.tls-bundle is set but the upstream " + upstream
                            + " is not https: the callers' tokens would cross it in clear");
                }
            }
        }
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(client.build());
        factory.setReadTimeout(Duration.ofSeconds(60));
        return factory;
    }
}
