package dev.weir.relay;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The web UI talks to one origin, the relay: calls for the policy, DNS and alerting APIs are
 * passed on to those services as they are (method, path, query, body, the caller's token), and
 * their answers passed back. The services check the token themselves. With weir.tls-bundle the
 * calls trust that bundle's certificates (the services' CA) and no other.
 */
@RestController
public class ApiProxy {

    private static final List<String> FORWARDED = List.of("Authorization", "Content-Type", "Accept");
    private final HttpClient http;
    private final RelayApplication.RelayProperties properties;

    public ApiProxy(RelayApplication.RelayProperties properties, SslBundles bundles) {
        this.properties = properties;
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (!properties.tlsBundle().isEmpty()) {
            client.sslContext(bundles.getBundle(properties.tlsBundle()).createSslContext());
            // The caller's token goes with every call: on TLS, never to a plaintext upstream.
            for (URI upstream : java.util.List.of(properties.policyApi(), properties.dnsApi(), properties.alertingApi())) {
                if (!"https".equals(upstream.getScheme())) {
                    throw new IllegalArgumentException("weir.tls-bundle is set but the upstream " + upstream
                            + " is not https: the callers' tokens would cross it in clear");
                }
            }
        }
        this.http = client.build();
    }

    @RequestMapping({"/api/v1/policies", "/api/v1/policies/**", "/api/v1/explain"})
    public ResponseEntity<byte[]> policy(HttpServletRequest request) throws IOException, InterruptedException {
        return forward(properties.policyApi(), request);
    }

    @RequestMapping("/api/v1/dns/**")
    public ResponseEntity<byte[]> dns(HttpServletRequest request) throws IOException, InterruptedException {
        return forward(properties.dnsApi(), request);
    }

    @RequestMapping("/api/v1/alerting/**")
    public ResponseEntity<byte[]> alerting(HttpServletRequest request) throws IOException, InterruptedException {
        return forward(properties.alertingApi(), request);
    }

    private ResponseEntity<byte[]> forward(URI service, HttpServletRequest request) throws IOException, InterruptedException {
        String target = request.getRequestURI() + (request.getQueryString() == null ? "" : "?" + request.getQueryString());
        byte[] body = request.getInputStream().readAllBytes();
        HttpRequest.Builder out = HttpRequest.newBuilder(service.resolve(target)).timeout(Duration.ofSeconds(60))
                .method(request.getMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (String header : FORWARDED) {
            String value = request.getHeader(header);
            if (value != null) {
                out.header(header, value);
            }
        }
        HttpResponse<byte[]> answer;
        try {
            answer = http.send(out.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            String message = "{\"error\":\"" + service.getHost() + ":" + service.getPort() + " did not answer\"}";
            return ResponseEntity.status(HttpStatus.BAD_GATEWAY).header("Content-Type", "application/json")
                    .body(message.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        ResponseEntity.BodyBuilder back = ResponseEntity.status(answer.statusCode());
        answer.headers().firstValue("Content-Type").ifPresent(v -> back.header("Content-Type", v));
        return back.body(answer.body());
    }
}
