package dev.weir.platform;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The embedded platform's certificate authority: a CA made once per data directory, and from it a
 * certificate per principal (the broker, each component, the operator), each valid for loopback
 * and usable as server and client. Keys never leave the secrets directory; the stores are PKCS#12
 * with a generated password, and the CA certificate is also written as PEM for curl and browsers.
 */
final class LocalCa {

    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(365);
    /** A certificate this close to expiring is issued again at the next start. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path directory;
    private final char[] password;
    private PrivateKey caKey;
    private X509Certificate caCertificate;

    /**
     * @param directory where the CA and the stores live (inside the secrets directory)
     * @param password the password of every store here (one secret of the platform's)
     */
    LocalCa(Path directory, String password) {
        this.directory = directory;
        this.password = password.toCharArray();
    }

    /** The CA, loaded or made on first use. */
    LocalCa open() throws IOException, GeneralSecurityException {
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        Path store = directory.resolve("ca.p12");
        if (Files.exists(store)) {
            KeyStore ks = load(store);
            caKey = (PrivateKey) ks.getKey("ca", password);
            caCertificate = (X509Certificate) ks.getCertificate("ca");
        }
        if (caCertificate == null || expiresSoon(caCertificate)) {
            KeyPair pair = keyPair();
            X500Name name = new X500Name("CN=Weir local CA,O=Weir");
            Instant now = Instant.now();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, pair.getPublic());
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    extensions.createSubjectKeyIdentifier(pair.getPublic()));
            caKey = pair.getPrivate();
            caCertificate = sign(builder, caKey);
            KeyStore ks = emptyStore();
            ks.setKeyEntry("ca", caKey, password, new Certificate[] {caCertificate});
            save(ks, store);
            // Everything issued by an earlier CA is stale now.
            try (var old = Files.list(directory)) {
                for (Path file : old.filter(f -> !f.getFileName().toString().equals("ca.p12")).toList()) {
                    Files.delete(file);
                }
            }
        }
        KeyStore trust = emptyStore();
        trust.setCertificateEntry("weir-ca", caCertificate);
        save(trust, truststore());
        writePrivately(directory.resolve("ca.crt"), pem(caCertificate));
        return this;
    }

    /** The PKCS#12 store trusting this CA only. */
    Path truststore() {
        return directory.resolve("truststore.p12");
    }

    /** The CA certificate as PEM. */
    Path caCertificate() {
        return directory.resolve("ca.crt");
    }

    /**
     * The PKCS#12 key store holding the principal's key and certificate (subject CN=principal),
     * issued on first use and again when it nears its end.
     */
    Path keystore(String principal) throws IOException, GeneralSecurityException {
        if (!principal.matches("[a-z0-9][a-z0-9.-]{0,62}")) {
            throw new IllegalArgumentException("not a principal name: " + principal);
        }
        Path store = directory.resolve(principal + ".p12");
        if (Files.exists(store)) {
            Certificate existing = load(store).getCertificate(principal);
            if (existing instanceof X509Certificate x509 && !expiresSoon(x509)) {
                return store;
            }
        }
        KeyPair pair = keyPair();
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(caCertificate, serial(),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(LEAF_LIFETIME)),
                new X500Name("CN=" + principal), pair.getPublic());
        JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        builder.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.iPAddress, "::1")}));
        builder.addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(caCertificate));
        X509Certificate certificate = sign(builder, caKey);
        KeyStore ks = emptyStore();
        ks.setKeyEntry(principal, pair.getPrivate(), password, new Certificate[] {certificate, caCertificate});
        save(ks, store);
        return store;
    }

    /** A principal's certificate chain and private key as PEM files, for servers that take files. */
    record PemIdentity(Path certificateChain, Path privateKey) {
    }

    /**
     * The principal's certificate chain (leaf, then this CA) and its key as PKCS#8, the format every
     * TLS library here reads; written from the key store, so both always hold the same key.
     */
    PemIdentity pemIdentity(String principal) throws IOException, GeneralSecurityException {
        Path store = keystore(principal);
        KeyStore ks = load(store);
        StringBuilder chain = new StringBuilder();
        for (Certificate certificate : ks.getCertificateChain(principal)) {
            chain.append(pem(certificate));
        }
        StringWriter key = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(key)) {
            writer.writeObject(new JcaPKCS8Generator((PrivateKey) ks.getKey(principal, password), null));
        }
        PemIdentity identity = new PemIdentity(directory.resolve(principal + ".crt"), directory.resolve(principal + ".key"));
        writePrivately(identity.certificateChain(), chain.toString());
        writePrivately(identity.privateKey(), key.toString());
        return identity;
    }

    private static boolean expiresSoon(X509Certificate certificate) {
        return certificate.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE));
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private KeyStore load(Path store) throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, password);
        }
        return ks;
    }

    private static KeyStore emptyStore() throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        return ks;
    }

    private void save(KeyStore ks, Path target) throws IOException, GeneralSecurityException {
        Path temporary = Files.createTempFile(directory, target.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (OutputStream out = Files.newOutputStream(temporary)) {
            ks.store(out, password);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void writePrivately(Path target, String text) throws IOException {
        Path temporary = Files.createTempFile(directory, target.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temporary, text, StandardCharsets.US_ASCII);
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String pem(Certificate certificate) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificate);
        }
        return text.toString();
    }
}
