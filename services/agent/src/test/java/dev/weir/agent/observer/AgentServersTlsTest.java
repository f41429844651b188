package dev.weir.agent.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.agent.AgentConfig;
import dev.weir.agent.flow.FlowRing;
import dev.weir.agent.flow.LostEvents;
import dev.weir.common.auth.BearerTokenInterceptor;
import dev.weir.common.auth.BearerTokens;
import dev.weir.common.tls.ServerTls;
import dev.weir.proto.observer.v1.ObserverGrpc;
import dev.weir.proto.observer.v1.ServerStatusRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's listeners with a TLS identity: the Observer API and the metrics take TLS only, and
 * the token is still required; without one, a listener off loopback is refused at configuration.
 */
class AgentServersTlsTest {

    private static final String TOKEN = "weir_agent-tls-test-token";

    @Test
    void withAnIdentityBothListenersTakeTlsOnly(@TempDir Path dir) throws Exception {
        X509Certificate certificate = selfSigned(dir);
        ServerTls.Files identity = new ServerTls.Files(dir.resolve("tls.crt"), dir.resolve("tls.key"));
        InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
        ObserverService observer = new ObserverService("node-tls", "test", new FlowRing(16), new LostEvents(), () -> 0,
                () -> 0.0);
        try (AgentServers servers = AgentServers.start(loopback, loopback, identity, new BearerTokens(TOKEN), observer,
                () -> "# TYPE weir_up gauge\nweir_up 1\n", () -> true)) {
            HttpClient trusting = HttpClient.newBuilder().sslContext(trusting(certificate)).build();
            HttpResponse<String> metrics = trusting.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + servers.metricsPort() + "/metrics"))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("weir_up 1");
            HttpResponse<String> anonymous = trusting.send(HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + servers.metricsPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThatThrownBy(() -> HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + servers.metricsPort() + "/livez"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()))
                    .as("plain HTTP to the TLS metrics listener: refused, not left waiting")
                    .isInstanceOf(java.io.IOException.class).isNotInstanceOf(java.net.http.HttpTimeoutException.class);

            Metadata auth = new Metadata();
            auth.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + TOKEN);
            ManagedChannel cleartext = Grpc.newChannelBuilderForAddress("127.0.0.1", servers.observerPort(),
                    InsecureChannelCredentials.create()).build();
            ManagedChannel tls = Grpc.newChannelBuilderForAddress("127.0.0.1", servers.observerPort(),
                    TlsChannelCredentials.newBuilder().trustManager(identity.certificateChain().toFile()).build()).build();
            try {
                assertThatThrownBy(() -> ObserverGrpc.newBlockingStub(cleartext)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                        .withDeadlineAfter(10, TimeUnit.SECONDS).serverStatus(ServerStatusRequest.getDefaultInstance()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class,
                                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                var status = ObserverGrpc.newBlockingStub(tls).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                        .withDeadlineAfter(10, TimeUnit.SECONDS).serverStatus(ServerStatusRequest.getDefaultInstance());
                assertThat(status).isNotNull();
                // Hubble's Observer API on the same port and ring, and the health check hubble status makes.
                var hubble = dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(tls)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth)).withDeadlineAfter(10, TimeUnit.SECONDS);
                var hubbleStatus = hubble.serverStatus(dev.weir.proto.hubble.observer.ServerStatusRequest.getDefaultInstance());
                assertThat(hubbleStatus.getMaxFlows()).isEqualTo(16);
                assertThat(hubbleStatus.getNumConnectedNodes().getValue()).isEqualTo(1);
                assertThat(hubble.getNodes(dev.weir.proto.hubble.observer.GetNodesRequest.getDefaultInstance()).getNodesList())
                        .extracting(n -> n.getName()).containsExactly("node-tls");
                assertThat(io.grpc.health.v1.HealthGrpc.newBlockingStub(tls).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService("hubble.server.Observer").build())
                        .getStatus()).isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                cleartext.shutdownNow();
                tls.shutdownNow();
            }
        }
    }

    @Test
    void aListenerOffLoopbackNeedsTlsOrTheOperatorsWord() throws Exception {
        Map<String, String> base = Map.of("WEIR_NODE_NAME", "n1", "WEIR_API_TOKEN", TOKEN, "WEIR_KAFKA_UNAUTHENTICATED", "true");
        Map<String, String> open = new java.util.HashMap<>(base);
        open.put("WEIR_METRICS_ADDRESS", "0.0.0.0:9965");
        assertThatThrownBy(() -> AgentConfig.fromEnvironment(open)).hasMessageContaining("WEIR_METRICS_ADDRESS")
                .hasMessageContaining("WEIR_TLS_CERT_FILE");
        Map<String, String> anyIpv6 = new java.util.HashMap<>(base);
        anyIpv6.put("WEIR_OBSERVER_ADDRESS", "[::]:4244");
        assertThatThrownBy(() -> AgentConfig.fromEnvironment(anyIpv6)).hasMessageContaining("is not loopback");
        open.put("WEIR_PLAINTEXT_LISTENERS", "true");
        assertThat(AgentConfig.fromEnvironment(open).tls()).isNull();

        Map<String, String> half = new java.util.HashMap<>(base);
        half.put("WEIR_TLS_CERT_FILE", "/etc/weir/tls/tls.crt");
        assertThatThrownBy(() -> AgentConfig.fromEnvironment(half)).hasMessageContaining("go together");
        half.put("WEIR_TLS_KEY_FILE", "/etc/weir/tls/tls.key");
        half.put("WEIR_OBSERVER_ADDRESS", "0.0.0.0:4244");
        assertThat(AgentConfig.fromEnvironment(half).tls().privateKey()).isEqualTo(Path.of("/etc/weir/tls/tls.key"));
    }

    @Test
    void anUnreadableIdentityFailsTheStartWithTheFilesNamed(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("tls.crt"), "not a certificate");
        Files.writeString(dir.resolve("tls.key"), "not a key");
        assertThatThrownBy(() -> ServerTls.open(new ServerTls.Files(dir.resolve("tls.crt"), dir.resolve("tls.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tls.crt").hasMessageContaining("PKCS#8");
    }

    /** A self-signed EC certificate for 127.0.0.1, written as tls.crt and a PKCS#8 tls.key. */
    static X509Certificate selfSigned(Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair pair = generator.generateKeyPair();
        X500Name name = new X500Name("CN=weir-agent");
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), name, pair.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
        Files.writeString(dir.resolve("tls.crt"), pem(certificate));
        Files.writeString(dir.resolve("tls.key"), pem(new JcaPKCS8Generator(pair.getPrivate(), null)));
        return certificate;
    }

    static String pem(Object object) throws Exception {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        }
        return text.toString();
    }

    static SSLContext trusting(X509Certificate certificate) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("agent", certificate);
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
