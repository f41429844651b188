package dev.weir.relay.hubble;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.common.auth.ObserverAuthentication;
import java.math.BigInteger;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.junit.jupiter.api.Test;

/** The subject CN that decides whether a client certificate stands for a token on the Observer APIs. */
class ObserverClientNameTest {

    @Test
    void theCommonNameIsReadFromTheSubjectAndNothingElse() throws Exception {
        assertThat(ObserverAuthentication.commonName(certificate("CN=observer-client,O=Weir"))).isEqualTo("observer-client");
        assertThat(ObserverAuthentication.commonName(certificate("O=observer-client"))).isEmpty();
        assertThat(ObserverAuthentication.commonName(certificate("CN=weir-agent"))).isEqualTo("weir-agent");
    }

    static X509Certificate certificate(String subject) throws Exception {
        var generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        var pair = generator.generateKeyPair();
        var name = new org.bouncycastle.asn1.x500.X500Name(subject);
        var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plusSeconds(3600)), name, pair.getPublic());
        return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(builder.build(
                new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
    }
}
