package dev.weir.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.ssl.DefaultSslBundleRegistry;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.web.servlet.function.ServerRequest;

/** The relay passes callers' tokens on: with TLS configured, only to https upstreams, and nothing else they send. */
class ApiRoutesTest {

    static RelayApplication.RelayProperties properties(String policy, String tlsBundle) {
        return new RelayApplication.RelayProperties("127.0.0.1:9092", null, true, 1, 1000, Duration.ofSeconds(30), 0,
                "127.0.0.1", URI.create(policy), URI.create("https://weir-dns:8082"), URI.create("https://weir-alerting:8083"),
                tlsBundle, null, java.util.List.of(), java.util.List.of());
    }

    @Test
    void onTlsAPlaintextUpstreamIsRefusedAtStart() {
        DefaultSslBundleRegistry bundles = new DefaultSslBundleRegistry("weir", SslBundle.of(SslStoreBundle.NONE));
        ApiRoutes routes = new ApiRoutes();
        assertThatThrownBy(() -> routes.gatewayRequestFactory(properties("http://weir-policy:8081", "weir"), bundles))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://weir-policy:8081")
                .hasMessageContaining("not https");
        assertThatCode(() -> routes.gatewayRequestFactory(properties("https://weir-policy:8081", "weir"), bundles))
                .doesNotThrowAnyException();
        // Without TLS (the operator's tls.disabled), plaintext is what there is.
        assertThatCode(() -> routes.gatewayRequestFactory(properties("http://weir-policy:8081", ""), bundles))
                .doesNotThrowAnyException();
    }

    @Test
    void onlyTheTokenAndTheContentHeadersGoOn() {
        MockHttpServletRequest servlet = new MockHttpServletRequest("POST", "/api/v1/policies");
        servlet.addHeader("Authorization", "Bearer weir_x");
        servlet.addHeader("Content-Type", "application/yaml");
        servlet.addHeader("Accept", "application/json");
        servlet.addHeader("Cookie", "session=1");
        servlet.addHeader("X-Weir-Author", "someone-else");
        servlet.addHeader("X-Forwarded-For", "10.0.0.1");
        ServerRequest request = ServerRequest.create(servlet, java.util.List.of());
        var headers = ApiRoutes.onlyForwardedHeaders(request).headers().asHttpHeaders();
        assertThat(headers.headerNames()).containsExactlyInAnyOrder("Authorization", "Content-Type", "Accept");
    }
}
