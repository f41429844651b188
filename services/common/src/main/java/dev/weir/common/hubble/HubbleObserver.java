package dev.weir.common.hubble;

import com.google.protobuf.UInt32Value;
import dev.weir.proto.hubble.observer.GetAgentEventsRequest;
import dev.weir.proto.hubble.observer.GetAgentEventsResponse;
import dev.weir.proto.hubble.observer.GetDebugEventsRequest;
import dev.weir.proto.hubble.observer.GetDebugEventsResponse;
import dev.weir.proto.hubble.observer.GetFlowsRequest;
import dev.weir.proto.hubble.observer.GetFlowsResponse;
import dev.weir.proto.hubble.observer.GetNamespacesRequest;
import dev.weir.proto.hubble.observer.GetNamespacesResponse;
import dev.weir.proto.hubble.observer.GetNodesRequest;
import dev.weir.proto.hubble.observer.GetNodesResponse;
import dev.weir.proto.hubble.observer.Namespace;
import dev.weir.proto.hubble.observer.Node;
import dev.weir.proto.hubble.observer.ObserverGrpc;
import dev.weir.proto.hubble.observer.ServerStatusRequest;
import dev.weir.proto.hubble.observer.ServerStatusResponse;
import dev.weir.proto.hubble.observer.TLS;
import dev.weir.proto.hubble.relay.NodeState;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Hubble's Observer API (observer.Observer) in front of Weir's own: the relay's over the whole
 * cluster's flows in Kafka, an agent's over its node's ring. A request is translated to Weir's
 * and every answer back to Hubble's, so both keep one implementation of history, follow, flow
 * control and bounds, and the hubble CLI, Hubble UI and hubble-otel read Weir as they would read
 * Hubble. Agent and debug events: Weir has none, and says so by ending the stream at once.
 */
public final class HubbleObserver extends ObserverGrpc.ObserverImplBase {

    private final dev.weir.proto.observer.v1.ObserverGrpc.ObserverImplBase weir;
    private final Supplier<List<String>> namespaces;
    private final String version;

    /**
     * @param weir Weir's Observer implementation, whose unary calls answer before they return
     * @param namespaces the namespaces with flows lately (Hubble: in the last hour), sorted
     */
    public HubbleObserver(dev.weir.proto.observer.v1.ObserverGrpc.ObserverImplBase weir, Supplier<List<String>> namespaces) {
        this.weir = weir;
        this.namespaces = namespaces;
        this.version = "weir-" + HubbleObserver.class.getPackage().getImplementationVersion();
    }

    @Override
    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responses) {
        ServerCallStreamObserver<GetFlowsResponse> call = (ServerCallStreamObserver<GetFlowsResponse>) responses;
        dev.weir.proto.observer.v1.GetFlowsRequest.Builder translated;
        try {
            translated = dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setNumber(request.getNumber())
                    .setFirst(request.getFirst()).setFollow(request.getFollow())
                    .addAllWhitelist(HubbleFilters.whitelist(request.getWhitelistList()))
                    .addAllBlacklist(HubbleFilters.blacklist(request.getBlacklistList()));
        } catch (HubbleFilters.Unsupported e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        if (request.hasSince()) {
            translated.setSince(request.getSince());
        }
        if (request.hasUntil()) {
            translated.setUntil(request.getUntil());
        }
        // Hubble's field mask (the field, or its experimental forerunner older CLIs send): only
        // the fields asked for are sent. The latest CLI asks for its default mask unasked; a path
        // naming a field this flow.Flow lacks selects nothing, so it is dropped rather than refused.
        com.google.protobuf.FieldMask asked = request.hasFieldMask() ? request.getFieldMask()
                : request.getExperimental().getFieldMask();
        weir.getFlows(translated.build(), new Translating(call, asked.getPathsCount() == 0 ? null : known(asked)));
    }

    /** The paths of a mask that name fields of flow.Flow, normalized; at most 256 of them. */
    static com.google.protobuf.FieldMask known(com.google.protobuf.FieldMask asked) {
        com.google.protobuf.FieldMask.Builder known = com.google.protobuf.FieldMask.newBuilder();
        for (String path : asked.getPathsList().subList(0, Math.min(256, asked.getPathsCount()))) {
            if (com.google.protobuf.util.FieldMaskUtil.isValid(dev.weir.proto.hubble.flow.Flow.class, path)) {
                known.addPaths(path);
            }
        }
        return com.google.protobuf.util.FieldMaskUtil.normalize(known.build());
    }

    /** Weir's answers on their way to a Hubble client: translated one by one, flow control passed through. */
    static final class Translating extends ServerCallStreamObserver<dev.weir.proto.observer.v1.GetFlowsResponse> {
        private final ServerCallStreamObserver<GetFlowsResponse> call;
        private final com.google.protobuf.FieldMask mask;

        Translating(ServerCallStreamObserver<GetFlowsResponse> call, com.google.protobuf.FieldMask mask) {
            this.call = call;
            this.mask = mask;
        }

        @Override
        public void onNext(dev.weir.proto.observer.v1.GetFlowsResponse response) {
            GetFlowsResponse.Builder hubble = GetFlowsResponse.newBuilder().setNodeName(response.getNodeName())
                    .setTime(response.getTime());
            if (response.hasFlow()) {
                dev.weir.proto.hubble.flow.Flow flow = HubbleFlows.of(response.getFlow());
                if (mask != null) {
                    dev.weir.proto.hubble.flow.Flow.Builder masked = dev.weir.proto.hubble.flow.Flow.newBuilder();
                    com.google.protobuf.util.FieldMaskUtil.merge(mask, flow, masked);
                    flow = masked.build();
                }
                hubble.setFlow(flow);
            } else if (response.hasLostEvents()) {
                hubble.setLostEvents(HubbleFlows.lost(response.getLostEvents()));
            } else {
                return;
            }
            call.onNext(hubble.build());
        }

        @Override
        public void onError(Throwable t) {
            call.onError(t);
        }

        @Override
        public void onCompleted() {
            call.onCompleted();
        }

        @Override
        public boolean isCancelled() {
            return call.isCancelled();
        }

        @Override
        public void setOnCancelHandler(Runnable handler) {
            call.setOnCancelHandler(handler);
        }

        @Override
        public void setCompression(String compression) {
            call.setCompression(compression);
        }

        @Override
        public boolean isReady() {
            return call.isReady();
        }

        @Override
        public void setOnReadyHandler(Runnable handler) {
            call.setOnReadyHandler(handler);
        }

        @Override
        public void disableAutoInboundFlowControl() {
            call.disableAutoInboundFlowControl();
        }

        @Override
        public void request(int count) {
            call.request(count);
        }

        @Override
        public void setMessageCompression(boolean enable) {
            call.setMessageCompression(enable);
        }
    }

    /** The answer of one of Weir's unary calls, which answer before they return. */
    private static final class Answer<T> implements StreamObserver<T> {
        private T value;
        private Throwable failure;

        @Override
        public void onNext(T value) {
            this.value = value;
        }

        @Override
        public void onError(Throwable t) {
            failure = t;
        }

        @Override
        public void onCompleted() {
        }

        T get() {
            if (failure != null) {
                throw Status.fromThrowable(failure).asRuntimeException();
            }
            if (value == null) {
                throw Status.INTERNAL.withDescription("no answer").asRuntimeException();
            }
            return value;
        }
    }

    private dev.weir.proto.observer.v1.GetNodesResponse weirNodes() {
        Answer<dev.weir.proto.observer.v1.GetNodesResponse> nodes = new Answer<>();
        weir.getNodes(dev.weir.proto.observer.v1.GetNodesRequest.getDefaultInstance(), nodes);
        return nodes.get();
    }

    @Override
    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> responses) {
        GetNodesResponse.Builder answer = GetNodesResponse.newBuilder();
        try {
            for (dev.weir.proto.observer.v1.Node n : weirNodes().getNodesList()) {
                // Weir's relay reads every node's flows from Kafka, not from the node: no address to dial.
                answer.addNodes(Node.newBuilder().setName(n.getName()).setVersion(n.getVersion())
                        .setState(state(n.getState())).setTls(TLS.newBuilder().setEnabled(false))
                        .setSeenFlows(n.getFlowsSeen()).setNumFlows(n.getFlowsSeen()).setMaxFlows(n.getFlowsSeen())
                        .setUptimeNs(n.getUptimeNs()));
            }
        } catch (RuntimeException e) {
            responses.onError(Status.fromThrowable(e).asRuntimeException());
            return;
        }
        responses.onNext(answer.build());
        responses.onCompleted();
    }

    static NodeState state(dev.weir.proto.observer.v1.NodeState state) {
        return switch (state) {
            case NODE_CONNECTED -> NodeState.NODE_CONNECTED;
            case NODE_UNAVAILABLE -> NodeState.NODE_UNAVAILABLE;
            case NODE_GONE -> NodeState.NODE_GONE;
            default -> NodeState.UNKNOWN_NODE_STATE;
        };
    }

    @Override
    public void getNamespaces(GetNamespacesRequest request, StreamObserver<GetNamespacesResponse> responses) {
        GetNamespacesResponse.Builder answer = GetNamespacesResponse.newBuilder();
        try {
            namespaces.get().forEach(name -> answer.addNamespaces(Namespace.newBuilder().setNamespace(name)));
        } catch (RuntimeException e) {
            responses.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        responses.onNext(answer.build());
        responses.onCompleted();
    }

    @Override
    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> responses) {
        ServerStatusResponse hubble;
        try {
            Answer<dev.weir.proto.observer.v1.ServerStatusResponse> answer = new Answer<>();
            weir.serverStatus(dev.weir.proto.observer.v1.ServerStatusRequest.getDefaultInstance(), answer);
            dev.weir.proto.observer.v1.ServerStatusResponse status = answer.get();
            List<String> unavailable = new ArrayList<>();
            for (dev.weir.proto.observer.v1.Node n : weirNodes().getNodesList()) {
                if (n.getState() != dev.weir.proto.observer.v1.NodeState.NODE_CONNECTED) {
                    unavailable.add(n.getName());
                }
            }
            // An agent holds a ring (current of max); the relay keeps every flow seen (in Kafka):
            // there, current and max are both what was seen.
            long max = status.getMaxFlows() > 0 ? status.getMaxFlows() : status.getSeenFlows();
            long current = status.getMaxFlows() > 0 ? status.getNumFlows() : status.getSeenFlows();
            hubble = ServerStatusResponse.newBuilder().setNumFlows(current).setMaxFlows(max)
                    .setSeenFlows(status.getSeenFlows()).setUptimeNs(status.getUptimeNs())
                    .setNumConnectedNodes(UInt32Value.of(status.getNumConnectedNodes()))
                    .setNumUnavailableNodes(UInt32Value.of(status.getNumUnavailableNodes()))
                    .addAllUnavailableNodes(unavailable).setVersion(version).build();
        } catch (RuntimeException e) {
            responses.onError(Status.fromThrowable(e).asRuntimeException());
            return;
        }
        responses.onNext(hubble);
        responses.onCompleted();
    }

    @Override
    public void getAgentEvents(GetAgentEventsRequest request, StreamObserver<GetAgentEventsResponse> responses) {
        responses.onCompleted();
    }

    @Override
    public void getDebugEvents(GetDebugEventsRequest request, StreamObserver<GetDebugEventsResponse> responses) {
        responses.onCompleted();
    }
}
