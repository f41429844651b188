package dev.weir.relay;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.ssl.DefaultSslBundleRegistry;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslStoreBundle;

/** The relay passes callers' tokens on: with TLS configured, only to https upstreams. */
class ApiProxyTest {

    static RelayApplication.RelayProperties properties(String policy, String tlsBundle) {
        return new RelayApplication.RelayProperties("127.0.0.1:9092", null, true, 1, 1000, Duration.ofSeconds(30), 0,
                "127.0.0.1", URI.create(policy), URI.create("https://weir-dns:8082"), URI.create("https://weir-alerting:8083"),
                tlsBundle);
    }

    @Test
    void onTlsAPlaintextUpstreamIsRefusedAtStart() {
        DefaultSslBundleRegistry bundles = new DefaultSslBundleRegistry("weir", SslBundle.of(SslStoreBundle.NONE));
        assertThatThrownBy(() -> new ApiProxy(properties("http://weir-policy:8081", "weir"), bundles))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://weir-policy:8081")
                .hasMessageContaining("not https");
        assertThatCode(() -> new ApiProxy(properties("https://weir-policy:8081", "weir"), bundles)).doesNotThrowAnyException();
        // Without TLS (the operator's tls.disabled), plaintext is what there is.
        assertThatCode(() -> new ApiProxy(properties("http://weir-policy:8081", ""), bundles)).doesNotThrowAnyException();
    }
}
