package dev.weir.common.tls;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;

/**
 * A listener's identity outside Spring (the agent's gRPC and metrics): a certificate chain and a
 * PKCS#8 private key from PEM files, as cert-manager writes them, looked at every minute so that
 * a renewed certificate is served without a restart: grpc-java's key manager takes them again when
 * both files have changed (a Secret's update replaces both; replace both by hand too). A file that
 * cannot be read at start fails the start; one that goes bad later leaves the last good identity
 * in place (grpc-java logs it).
 */
public final class ServerTls implements AutoCloseable {

    /** Where a listener's certificate chain and key are. */
    public record Files(Path certificateChain, Path privateKey) {
        public Files {
            if (certificateChain == null || privateKey == null) {
                throw new IllegalArgumentException("a TLS identity needs both a certificate chain and a private key");
            }
        }
    }

    private static final long RELOAD_MINUTES = 1;
    private static final ScheduledExecutorService RELOADER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weir-tls-reload");
        t.setDaemon(true);
        return t;
    });

    private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509KeyManager.Closeable reloading;

    private ServerTls(Files files) throws IOException, GeneralSecurityException {
        reloading = keys.updateIdentityCredentials(files.certificateChain().toFile(), files.privateKey().toFile(),
                RELOAD_MINUTES, TimeUnit.MINUTES, RELOADER);
    }

    public static ServerTls open(Files files) {
        try {
            return new ServerTls(files);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the TLS certificate " + files.certificateChain() + " and key "
                    + files.privateKey() + " (a PEM chain and a PKCS#8 key): " + e.getMessage(), e);
        }
    }

    /** For a gRPC server: TLS only, no client certificate asked. */
    public ServerCredentials grpc() {
        return TlsServerCredentials.newBuilder().keyManager(keys).build();
    }

    /** For an HTTPS server. */
    public SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {keys}, null, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        reloading.close();
    }
}
