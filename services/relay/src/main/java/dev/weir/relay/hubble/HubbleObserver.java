package dev.weir.relay.hubble;

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
import dev.weir.relay.ClusterController;
import dev.weir.relay.NodeDirectory;
import dev.weir.relay.RelayObserver;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import org.springframework.stereotype.Component;

/**
 * Hubble's Observer API (observer.Observer) on the relay, over the same history, live tail, flow
 * control and bounds as Weir's own: a request is translated to Weir's, and every answer back to
 * Hubble's, so the hubble CLI, Hubble UI and hubble-otel read Weir's flows from Kafka as they
 * would read Hubble Relay. Agent and debug events: Weir has none, and says so by ending the
 * stream at once.
 */
@Component
public class HubbleObserver extends ObserverGrpc.ObserverImplBase {

    private final RelayObserver weir;
    private final NodeDirectory nodes;
    private final ClusterController cluster;
    private final String version;
    private final long startedNs = System.nanoTime();

    public HubbleObserver(RelayObserver weir, NodeDirectory nodes, ClusterController cluster) {
        this.weir = weir;
        this.nodes = nodes;
        this.cluster = cluster;
        this.version = "weir-" + HubbleObserver.class.getPackage().getImplementationVersion();
    }

    @Override
    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responses) {
        ServerCallStreamObserver<GetFlowsResponse> call = (ServerCallStreamObserver<GetFlowsResponse>) responses;
        dev.weir.proto.observer.v1.GetFlowsRequest translated;
        try {
            translated = dev.weir.proto.observer.v1.GetFlowsRequest.newBuilder().setNumber(request.getNumber())
                    .setFirst(request.getFirst()).setFollow(request.getFollow())
                    .addAllWhitelist(HubbleFilters.whitelist(request.getWhitelistList()))
                    .addAllBlacklist(HubbleFilters.blacklist(request.getBlacklistList()))
                    .build();
            if (request.hasSince()) {
                translated = translated.toBuilder().setSince(request.getSince()).build();
            }
            if (request.hasUntil()) {
                translated = translated.toBuilder().setUntil(request.getUntil()).build();
            }
        } catch (HubbleFilters.Unsupported e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        weir.getFlows(translated, new Translating(call));
    }

    /** Weir's answers on their way to a Hubble client: translated one by one, flow control passed through. */
    static final class Translating extends ServerCallStreamObserver<dev.weir.proto.observer.v1.GetFlowsResponse> {
        private final ServerCallStreamObserver<GetFlowsResponse> call;

        Translating(ServerCallStreamObserver<GetFlowsResponse> call) {
            this.call = call;
        }

        @Override
        public void onNext(dev.weir.proto.observer.v1.GetFlowsResponse response) {
            GetFlowsResponse.Builder hubble = GetFlowsResponse.newBuilder().setNodeName(response.getNodeName())
                    .setTime(response.getTime());
            if (response.hasFlow()) {
                hubble.setFlow(HubbleFlows.of(response.getFlow()));
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

    @Override
    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> responses) {
        GetNodesResponse.Builder answer = GetNodesResponse.newBuilder();
        Instant now = Instant.now();
        for (NodeDirectory.NodeView n : nodes.nodes(now)) {
            // The relay reads every node's flows from Kafka, not from the node: no address to dial.
            answer.addNodes(Node.newBuilder().setName(n.name()).setVersion(n.version())
                    .setState(n.state() == NodeDirectory.State.CONNECTED ? NodeState.NODE_CONNECTED : NodeState.NODE_UNAVAILABLE)
                    .setTls(TLS.newBuilder().setEnabled(false)).setSeenFlows(n.flowsSeen()).setNumFlows(n.flowsSeen())
                    .setMaxFlows(n.flowsSeen()).setUptimeNs(uptime(n, now)));
        }
        responses.onNext(answer.build());
        responses.onCompleted();
    }

    /** How long the node's agent has run (0 when its agent did not say when it started). */
    private static long uptime(NodeDirectory.NodeView node, Instant now) {
        return node.started() == null ? 0 : Math.max(0, java.time.Duration.between(node.started(), now).toNanos());
    }

    @Override
    public void getNamespaces(GetNamespacesRequest request, StreamObserver<GetNamespacesResponse> responses) {
        GetNamespacesResponse.Builder answer = GetNamespacesResponse.newBuilder();
        try {
            cluster.namespaces("1h").stream().map(ClusterController.NamespaceView::name).sorted()
                    .forEach(name -> answer.addNamespaces(Namespace.newBuilder().setNamespace(name)));
        } catch (RuntimeException e) {
            responses.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        responses.onNext(answer.build());
        responses.onCompleted();
    }

    @Override
    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> responses) {
        NodeDirectory.Totals totals = nodes.totals(Instant.now());
        // Every flow seen is kept (in Kafka, for its retention): current and max are both what was seen.
        responses.onNext(ServerStatusResponse.newBuilder().setNumFlows(totals.flowsSeen()).setMaxFlows(totals.flowsSeen())
                .setSeenFlows(totals.flowsSeen()).setUptimeNs(System.nanoTime() - startedNs)
                .setNumConnectedNodes(UInt32Value.of(totals.nodesConnected()))
                .setNumUnavailableNodes(UInt32Value.of(totals.nodesUnavailable()))
                .addAllUnavailableNodes(nodes.nodes(Instant.now()).stream()
                        .filter(n -> n.state() != NodeDirectory.State.CONNECTED).map(NodeDirectory.NodeView::name).toList())
                .setVersion(version).build());
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
