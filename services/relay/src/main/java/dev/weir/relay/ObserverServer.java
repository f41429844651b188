package dev.weir.relay;

import dev.weir.common.auth.BearerTokenInterceptor;
import dev.weir.common.auth.BearerTokens;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The relay's gRPC server (Observer API, port weir.grpc-port, 4245 like Hubble Relay), token
 * required; on TLS with the certificate of the bundle weir.tls-bundle when one is named, and then
 * only on TLS (a plaintext client fails its handshake).
 */
@Component
public class ObserverServer implements SmartLifecycle {

    private final RelayApplication.RelayProperties properties;
    private final RelayObserver observer;
    private final BearerTokens tokens;
    private final SslBundles bundles;
    private volatile Server server;

    public ObserverServer(RelayApplication.RelayProperties properties, RelayObserver observer, BearerTokens tokens,
            SslBundles bundles) {
        this.properties = properties;
        this.observer = observer;
        this.tokens = tokens;
        this.bundles = bundles;
    }

    @Override
    public void start() {
        try {
            // The read scope suffices: the Observer API only reads.
            InetSocketAddress address = new InetSocketAddress(properties.grpcAddress(), properties.grpcPort());
            NettyServerBuilder builder = properties.tlsBundle().isEmpty() ? NettyServerBuilder.forAddress(address)
                    : NettyServerBuilder.forAddress(address, credentials(bundles.getBundle(properties.tlsBundle())));
            server = builder
                    .addService(ServerInterceptors.intercept(observer, new BearerTokenInterceptor(tokens)))
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("the Observer gRPC server did not start on port " + properties.grpcPort(), e);
        }
    }

    private static ServerCredentials credentials(SslBundle bundle) {
        return TlsServerCredentials.newBuilder().keyManager(bundle.getManagers().getKeyManagers()).build();
    }

    /** The port bound (useful with weir.grpc-port=0). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void stop() {
        Server s = server;
        if (s != null) {
            s.shutdownNow();
            try {
                s.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        server = null;
    }

    @Override
    public boolean isRunning() {
        return server != null;
    }
}
