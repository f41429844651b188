package dev.weir.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.common.auth.BearerTokenInterceptor;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.observer.v1.ObserverGrpc;
import dev.weir.proto.observer.v1.ServerStatusRequest;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The system as ./weir up runs it, with every listener on TLS: plain HTTP and plaintext gRPC are
 * refused, a client that does not trust the local CA fails its handshake, one that does is served;
 * the relay reaches the other services over TLS, and the CLI trusts the CA it is given.
 */
class EmbeddedTlsIT {

    static EmbeddedWeir weir;
    static Map<String, Integer> services;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "it-tls-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        weir = EmbeddedWeir.start(PlatformConfig.onFreePorts(dir), dir, EmbeddedWeir.Ports.free(), false);
        services = Map.of("policy", weir.policyPort(), "dns", weir.dnsPort(), "alerting", weir.alertingPort(),
                "relay", weir.relayPort());
    }

    @AfterAll
    static void stop() {
        if (weir != null) {
            weir.close();
        }
    }

    static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + weir.platform().apiToken()).build();
    }

    @Test
    void everyRestListenerServesOnlyTlsAndOnlyToClientsThatTrustTheLocalCa() throws Exception {
        HttpClient plain = HttpClient.newHttpClient();
        HttpClient trustingTheJvmDefaults = HttpClient.newHttpClient();
        HttpClient trustingTheCa = HttpClient.newBuilder().sslContext(weir.platform().clientTls()).build();
        for (Map.Entry<String, Integer> service : services.entrySet()) {
            String path = "/actuator/prometheus";
            HttpResponse<String> cleartext = plain.send(get("http://127.0.0.1:" + service.getValue() + path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(cleartext.statusCode()).as(service.getKey() + " over plain HTTP").isEqualTo(400);
            assertThat(cleartext.body()).as(service.getKey()).contains("requires TLS").doesNotContain("# TYPE");

            assertThatThrownBy(() -> trustingTheJvmDefaults.send(get(EmbeddedWeir.url(service.getValue()) + path),
                    HttpResponse.BodyHandlers.ofString())).as(service.getKey() + " to a client that does not trust the CA")
                    .isInstanceOf(SSLHandshakeException.class);

            HttpResponse<String> served = trustingTheCa.send(get(EmbeddedWeir.url(service.getValue()) + path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(served.statusCode()).as(service.getKey()).isEqualTo(200);
            assertThat(served.body()).contains("# TYPE ");
            assertThat(served.headers().firstValue("Strict-Transport-Security")).as(service.getKey()
                    + ": no HSTS for a certificate that names localhost").isEmpty();
            // The certificate names loopback both ways a user may write it.
            HttpResponse<String> byName = trustingTheCa.send(get("https://localhost:" + service.getValue() + path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(byName.statusCode()).as(service.getKey() + " as localhost").isEqualTo(200);
        }
    }

    @Test
    void theRelayReachesEachServiceOverTls() throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(weir.platform().clientTls()).build();
        for (String path : new String[] {"/api/v1/policies", "/api/v1/dns/health", "/api/v1/alerting/rules"}) {
            HttpResponse<String> answer = http.send(get(EmbeddedWeir.url(weir.relayPort()) + path),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as("%s through the relay: %s", path, answer.body()).isEqualTo(200);
        }
    }

    @Test
    void theObserverGrpcListenerTakesOnlyTls() throws Exception {
        Metadata auth = new Metadata();
        auth.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + weir.platform().apiToken());
        ManagedChannel cleartext = Grpc.newChannelBuilderForAddress("127.0.0.1", weir.relayGrpcPort(),
                io.grpc.InsecureChannelCredentials.create()).build();
        ManagedChannel tls = Grpc.newChannelBuilderForAddress("127.0.0.1", weir.relayGrpcPort(),
                TlsChannelCredentials.newBuilder().trustManager(weir.platform().caCertificate().toFile()).build()).build();
        try {
            var plainStub = ObserverGrpc.newBlockingStub(cleartext)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth)).withDeadlineAfter(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> plainStub.serverStatus(ServerStatusRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

            var tlsStub = ObserverGrpc.newBlockingStub(tls).withDeadlineAfter(10, TimeUnit.SECONDS);
            assertThatThrownBy(() -> tlsStub.serverStatus(ServerStatusRequest.getDefaultInstance()))
                    .as("TLS is no credential: the token is still required")
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            var status = tlsStub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth))
                    .serverStatus(ServerStatusRequest.getDefaultInstance());
            assertThat(status).isNotNull();
        } finally {
            cleartext.shutdownNow();
            tls.shutdownNow();
        }
    }

    @Test
    void aHubbleClientWithItsCertificateReadsTheObserverApiWithoutAToken() throws Exception {
        // What hubble --tls --tls-ca-cert-files --tls-client-cert-file --tls-client-key-file does.
        ManagedChannel mutual = Grpc.newChannelBuilderForAddress("127.0.0.1", weir.relayGrpcPort(),
                TlsChannelCredentials.newBuilder().trustManager(weir.platform().caCertificate().toFile())
                        .keyManager(weir.platform().observerClientCertificate().toFile(),
                                weir.platform().observerClientKey().toFile()).build()).build();
        ManagedChannel serverOnly = Grpc.newChannelBuilderForAddress("127.0.0.1", weir.relayGrpcPort(),
                TlsChannelCredentials.newBuilder().trustManager(weir.platform().caCertificate().toFile()).build()).build();
        try {
            var status = dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(mutual).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .serverStatus(dev.weir.proto.hubble.observer.ServerStatusRequest.getDefaultInstance());
            assertThat(status.getVersion()).startsWith("weir-");
            assertThat(io.grpc.health.v1.HealthGrpc.newBlockingStub(serverOnly).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService("hubble.server.Observer").build())
                    .getStatus()).isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            assertThatThrownBy(() -> dev.weir.proto.hubble.observer.ObserverGrpc.newBlockingStub(serverOnly)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .serverStatus(dev.weir.proto.hubble.observer.ServerStatusRequest.getDefaultInstance()))
                    .as("neither a client certificate nor a token")
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        } finally {
            mutual.shutdownNow();
            serverOnly.shutdownNow();
        }
    }

    @Test
    void theCliTrustsTheCaItIsGivenAndSaysWhatIsWrongWithout() {
        String[] status = {"--policy-api", EmbeddedWeir.url(weir.policyPort()), "--dns-api", EmbeddedWeir.url(weir.dnsPort()),
            "--alerting-api", EmbeddedWeir.url(weir.alertingPort()), "--relay-api", EmbeddedWeir.url(weir.relayPort()),
            "--token-file", weir.platform().apiTokenFile().toString()};
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int trusted = dev.weir.cli.Weir.run(concat(status, "--ca-cert", weir.platform().caCertificate().toString(),
                "policy", "list"), new PrintWriter(out), new PrintWriter(err));
        assertThat(trusted).as("weir policy list with --ca-cert: %s", err).isZero();
        assertThat(out.toString()).contains("KIND");

        StringWriter refusedOut = new StringWriter();
        StringWriter refused = new StringWriter();
        int untrusted = dev.weir.cli.Weir.run(concat(status, "policy", "list"), new PrintWriter(refusedOut),
                new PrintWriter(refused));
        assertThat(untrusted).isEqualTo(3);
        assertThat(refused.toString()).contains("TLS failed").contains("--ca-cert");
    }

    static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
