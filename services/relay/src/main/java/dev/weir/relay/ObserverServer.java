package dev.weir.relay;

import dev.weir.common.auth.BearerTokens;
import dev.weir.common.auth.ObserverAuthentication;
import dev.weir.common.hubble.ObserverServices;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
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
 * The relay's gRPC server (port weir.grpc-port, 4245 like Hubble Relay): Weir's Observer API,
 * Hubble's (observer.Observer, for the hubble CLI and UI) and gRPC health, where Hubble's CLI
 * asks for "hubble.server.Observer". On TLS with the certificate of the bundle weir.tls-bundle
 * when one is named, and then only on TLS; with weir.grpc-client-ca-file, a client certificate
 * that CA signed stands for a token (mutual TLS, as Hubble clients authenticate). The Observer
 * APIs need a token or such a certificate; health needs neither.
 */
@Component
public class ObserverServer implements SmartLifecycle {

    private final RelayApplication.RelayProperties properties;
    private final ObserverServices services;
    private final SslBundles bundles;
    private volatile Server server;

    public ObserverServer(RelayApplication.RelayProperties properties, RelayObserver observer, ClusterController cluster,
            BearerTokens tokens, SslBundles bundles) {
        this.properties = properties;
        // Hubble's namespaces are those with flows in the last hour, sorted.
        this.services = new ObserverServices(observer, () -> cluster.namespaces("1h").stream()
                .map(ClusterController.NamespaceView::name).sorted().toList(),
                new ObserverAuthentication(tokens, properties.grpcClientNames()));
        this.bundles = bundles;
    }

    @Override
    public void start() {
        try {
            // The read scope suffices: the Observer API only reads.
            InetSocketAddress address = new InetSocketAddress(properties.grpcAddress(), properties.grpcPort());
            NettyServerBuilder builder = properties.tlsBundle().isEmpty() ? NettyServerBuilder.forAddress(address)
                    : NettyServerBuilder.forAddress(address, credentials(bundles.getBundle(properties.tlsBundle()),
                            properties.grpcClientCaFile()));
            services.services().forEach(builder::addService);
            server = builder.build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("the Observer gRPC server did not start on port " + properties.grpcPort(), e);
        }
    }

    private static ServerCredentials credentials(SslBundle bundle, java.nio.file.Path clientCa) throws IOException {
        TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder().keyManager(bundle.getManagers().getKeyManagers());
        if (clientCa != null) {
            // Asked for, not required: a client without a certificate may still bring a token.
            tls.trustManager(clientCa.toFile()).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
        }
        return tls.build();
    }

    /** The port bound (useful with weir.grpc-port=0). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void stop() {
        services.stopping();
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
