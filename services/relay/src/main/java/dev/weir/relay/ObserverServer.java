package dev.weir.relay;

import dev.weir.common.auth.BearerTokenInterceptor;
import dev.weir.common.auth.BearerTokens;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/** The relay's gRPC server (Observer API, port weir.grpc-port, 4245 like Hubble Relay), token required. */
@Component
public class ObserverServer implements SmartLifecycle {

    private final RelayApplication.RelayProperties properties;
    private final RelayObserver observer;
    private volatile Server server;

    public ObserverServer(RelayApplication.RelayProperties properties, RelayObserver observer) {
        this.properties = properties;
        this.observer = observer;
    }

    @Override
    public void start() {
        try {
            BearerTokens tokens = new BearerTokens(Files.readString(properties.apiTokenFile()).trim());
            server = NettyServerBuilder.forAddress(new InetSocketAddress(properties.grpcPort()))
                    .addService(ServerInterceptors.intercept(observer, new BearerTokenInterceptor(tokens)))
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("the Observer gRPC server did not start on port " + properties.grpcPort(), e);
        }
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
