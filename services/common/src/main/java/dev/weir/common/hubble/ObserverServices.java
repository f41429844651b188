package dev.weir.common.hubble;

import dev.weir.common.auth.ObserverAuthentication;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.List;
import java.util.function.Supplier;

/**
 * What an Observer gRPC server serves, the relay's and every agent's alike: Weir's Observer API
 * and Hubble's in front of it, both behind the same authentication, and gRPC health, SERVING for
 * the name Hubble's CLI checks (hubble status) and for the server as a whole; health asks for no
 * credentials, as a probe would not have them.
 */
public final class ObserverServices {

    /** The name the hubble CLI checks, as Hubble's own server registers it. */
    public static final String HUBBLE_HEALTH_NAME = "hubble.server.Observer";

    private final HealthStatusManager health = new HealthStatusManager();
    private final List<ServerServiceDefinition> services;

    /**
     * @param weir Weir's Observer implementation
     * @param namespaces the namespaces with flows lately, sorted (Hubble's GetNamespaces)
     */
    public ObserverServices(dev.weir.proto.observer.v1.ObserverGrpc.ObserverImplBase weir, Supplier<List<String>> namespaces,
            ObserverAuthentication authentication) {
        health.setStatus(HUBBLE_HEALTH_NAME, HealthCheckResponse.ServingStatus.SERVING);
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, HealthCheckResponse.ServingStatus.SERVING);
        services = List.of(ServerInterceptors.intercept(weir, authentication),
                ServerInterceptors.intercept(new HubbleObserver(weir, namespaces), authentication),
                health.getHealthService().bindService());
    }

    public List<ServerServiceDefinition> services() {
        return services;
    }

    /** Health says NOT_SERVING from now on: the server is going away. */
    public void stopping() {
        health.enterTerminalState();
    }
}
