package dev.weir.common.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/** Refuses every gRPC call that does not carry "authorization: Bearer &lt;token&gt;". */
public final class BearerTokenInterceptor implements ServerInterceptor {

    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final BearerTokens tokens;

    public BearerTokenInterceptor(BearerTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (!tokens.accepts(headers.get(AUTHORIZATION))) {
            call.close(Status.UNAUTHENTICATED.withDescription("a bearer token is required"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
