package dev.weir.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The HTTP client of every command: with a CA file (--ca-cert, WEIR_CA_CERT) it trusts the
 * certificates that CA signed and no other, as a private deployment wants; without one, the JVM's
 * trusted authorities. Host names are always verified.
 */
public final class ClientTls {

    private ClientTls() {
    }

    public static HttpClient client(Path caCertificates, Duration connectTimeout) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(connectTimeout);
        if (caCertificates != null && !caCertificates.toString().isEmpty()) { // empty: the JVM's authorities
            builder.sslContext(trusting(caCertificates));
        }
        return builder.build();
    }

    /** A TLS context trusting the PEM certificates in the file (one CA or a bundle). */
    static SSLContext trusting(Path caCertificates) {
        try (InputStream in = Files.newInputStream(caCertificates)) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int n = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + n++, certificate);
            }
            if (n == 0) {
                throw new Api.Failure(Api.REFUSED, caCertificates + " holds no PEM certificate (--ca-cert or WEIR_CA_CERT)");
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new Api.Failure(Api.REFUSED, "cannot read the CA certificates " + caCertificates
                    + " (--ca-cert or WEIR_CA_CERT): " + e.getMessage());
        }
    }
}
