package dev.weir.standalone;

import dev.weir.alerting.AlertingApplication;
import dev.weir.dns.DnsServiceApplication;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.policy.service.PolicyServiceApplication;
import dev.weir.relay.ObserverServer;
import dev.weir.relay.RelayApplication;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole system on one machine: Kafka and PostgreSQL (the platform), the policy, DNS and
 * alerting services and the relay on loopback, every REST and gRPC listener on TLS with the
 * platform's server certificate, and, as root, the agent with the demo pods. What has started is
 * stopped in reverse order, on failure and on close.
 */
public final class EmbeddedWeir implements AutoCloseable {

    /** Where the services listen; 0 for any free port. */
    public record Ports(int policy, int dns, int alerting, int relay, int relayGrpc) {
        public static Ports standard() {
            return new Ports(8081, 8082, 8083, 8084, 4245);
        }

        public static Ports free() {
            return new Ports(0, 0, 0, 0, 0);
        }
    }

    private final Deque<AutoCloseable> running = new ArrayDeque<>();
    private Platform platform;
    private int policyPort;
    private int dnsPort;
    private int alertingPort;
    private int relayPort;
    private int relayGrpcPort;
    private Demo demo;

    private EmbeddedWeir() {
    }

    public static EmbeddedWeir start(PlatformConfig config, Path dataDirectory, Ports ports, boolean withDemo)
            throws Exception {
        EmbeddedWeir weir = new EmbeddedWeir();
        try {
            weir.startAll(config, dataDirectory, ports, withDemo);
            return weir;
        } catch (Exception e) {
            weir.close();
            throw e;
        }
    }

    private void startAll(PlatformConfig config, Path dataDirectory, Ports ports, boolean withDemo) throws Exception {
        platform = new Platform(config).start();
        running.push(platform);
        policyPort = service("the policy service", PolicyServiceApplication.class,
                PolicyServiceApplication.arguments(local(platform.serviceSettings("policy"), ports.policy())));
        Map<String, String> dns = local(platform.serviceSettings("dns"), ports.dns());
        dns.put("weir.dns.state-dir", dataDirectory.resolve("dns-streams").toString());
        dnsPort = service("the DNS service", DnsServiceApplication.class, DnsServiceApplication.arguments(dns));
        Map<String, String> alerting = local(platform.serviceSettings("alerting"), ports.alerting());
        if (ports.alerting() != 0) { // links in notifications; unknown before a free port is bound
            alerting.put("weir.alerting.external-url", url(ports.alerting()));
        }
        alertingPort = service("the alerting service", AlertingApplication.class, AlertingApplication.arguments(alerting));
        Map<String, String> relay = local(platform.serviceSettings("relay"), ports.relay());
        relay.put("weir.grpc-port", Integer.toString(ports.relayGrpc()));
        relay.put("weir.policy-api", url(policyPort));
        relay.put("weir.dns-api", url(dnsPort));
        relay.put("weir.alerting-api", url(alertingPort));
        relayPort = service("the relay", RelayApplication.class, RelayApplication.arguments(relay));
        relayGrpcPort = ((ConfigurableApplicationContext) running.peek()).getBean(ObserverServer.class).port();
        if (withDemo) {
            try {
                demo = Demo.start(platform, dataDirectory, policyPort);
            } catch (Exception e) {
                throw new Exception("the agent and demo pods did not start: " + e.getMessage(), e);
            }
            running.push(demo);
        }
    }

    /** Starts a Spring Boot service, remembers it for stopping, and returns the port it listens on. */
    private int service(String what, Class<?> application, String[] arguments) throws Exception {
        ConfigurableApplicationContext context;
        try {
            context = new SpringApplicationBuilder(application).run(arguments);
        } catch (RuntimeException e) {
            throw new Exception(what + " did not start: " + e.getMessage(), e);
        }
        running.push(context);
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    /** A service's settings, listening on loopback only at its port, on TLS. */
    private Map<String, String> local(Map<String, String> settings, int port) {
        settings.put("server.port", Integer.toString(port));
        settings.put("server.address", "127.0.0.1");
        settings.putAll(platform.tlsSettings());
        return settings;
    }

    /** The scheme and address of the services' listeners. */
    public static String url(int port) {
        return "https://127.0.0.1:" + port;
    }

    public Platform platform() {
        return platform;
    }

    public int policyPort() {
        return policyPort;
    }

    public int dnsPort() {
        return dnsPort;
    }

    public int alertingPort() {
        return alertingPort;
    }

    public int relayPort() {
        return relayPort;
    }

    public int relayGrpcPort() {
        return relayGrpcPort;
    }

    /** The demo, or null when not started (not root). */
    public Demo demo() {
        return demo;
    }

    public boolean healthy() {
        return platform.healthy();
    }

    @Override
    public void close() {
        while (!running.isEmpty()) {
            try {
                running.pop().close();
            } catch (Exception e) {
                System.err.println("weir: stopping: " + e.getMessage());
            }
        }
    }
}
