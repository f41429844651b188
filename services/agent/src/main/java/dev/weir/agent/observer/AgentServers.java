package dev.weir.agent.observer;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.weir.common.auth.ObserverAuthentication;
import dev.weir.common.hubble.ObserverServices;
import dev.weir.common.auth.BearerTokens;
import dev.weir.common.tls.ServerTls;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The agent's network surface: the Observer gRPC API and the Prometheus endpoint, both behind
 * the API token (Prometheus sends it with {@code authorization: credentials_file}). Without one:
 * /livez (the process answers: for liveness probes, which must not restart an agent because
 * Kafka is away, since its pinned maps enforce meanwhile) and /healthz (its work runs, every
 * consumer loop included: for readiness and monitoring). The gRPC port serves Weir's Observer
 * API, Hubble's (observer.Observer) over the same ring, and gRPC health. With a TLS identity both
 * listeners take TLS only.
 */
public final class AgentServers implements AutoCloseable {

    private final Server grpc;
    private final HttpServer http;
    private final ServerTls tls;

    private AgentServers(Server grpc, HttpServer http, ServerTls tls) {
        this.grpc = grpc;
        this.http = http;
        this.tls = tls;
    }

    /** @param identity the listeners' TLS certificate and key, or null for plaintext */
    public static AgentServers start(InetSocketAddress observer, InetSocketAddress metrics, ServerTls.Files identity,
            BearerTokens tokens, ObserverService service, Supplier<String> scrape, Supplier<Boolean> healthy)
            throws IOException {
        ServerTls tls = identity == null ? null : ServerTls.open(identity);
        Server grpc = null;
        HttpServer http;
        try {
            // Weir's and Hubble's Observer APIs over the same ring, for the hubble CLI pointed at this node.
            NettyServerBuilder builder = tls == null ? NettyServerBuilder.forAddress(observer)
                    : NettyServerBuilder.forAddress(observer, tls.grpc());
            new ObserverServices(service, service::namespaces, new ObserverAuthentication(tokens, java.util.List.of()))
                    .services().forEach(builder::addService);
            grpc = builder.build().start();
            if (tls == null) {
                http = HttpServer.create(metrics, 16);
            } else {
                HttpsServer https = HttpsServer.create(metrics, 16);
                https.setHttpsConfigurator(new HttpsConfigurator(tls.sslContext()));
                http = https;
            }
        } catch (IOException | RuntimeException e) {
            if (grpc != null) {
                grpc.shutdownNow();
            }
            if (tls != null) {
                tls.close();
            }
            throw e;
        }
        http.createContext("/metrics", exchange -> {
            if (!tokens.accepts(exchange.getRequestHeaders().getFirst("Authorization"))) {
                respond(exchange, 401, "a bearer token is required\n");
                return;
            }
            respond(exchange, 200, scrape.get());
        });
        http.createContext("/livez", exchange -> respond(exchange, 200, "ok\n"));
        http.createContext("/healthz", exchange -> {
            boolean ok = healthy.get();
            respond(exchange, ok ? 200 : 503, ok ? "ok\n" : "unhealthy\n");
        });
        http.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "weir-agent-http");
            t.setDaemon(true);
            return t;
        }));
        http.start();
        return new AgentServers(grpc, http, tls);
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    public int observerPort() {
        return grpc.getPort();
    }

    public int metricsPort() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        grpc.shutdownNow();
        http.stop(0);
        if (tls != null) {
            tls.close();
        }
        try {
            grpc.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
