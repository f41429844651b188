package dev.weir.relay;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.observer.v1.GetFlowsRequest;
import dev.weir.proto.observer.v1.GetFlowsResponse;
import dev.weir.proto.observer.v1.GetNodesRequest;
import dev.weir.proto.observer.v1.GetNodesResponse;
import dev.weir.proto.observer.v1.LostEvent;
import dev.weir.proto.observer.v1.LostEventSource;
import dev.weir.proto.observer.v1.Node;
import dev.weir.proto.observer.v1.NodeState;
import dev.weir.proto.observer.v1.ObserverGrpc;
import dev.weir.proto.observer.v1.ServerStatusRequest;
import dev.weir.proto.observer.v1.ServerStatusResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * The Observer API for the whole cluster, as Hubble Relay serves it: GetFlows over every node's
 * flows (history from Kafka by time range, first or last N, then with follow the live flows),
 * GetNodes from the agents' heartbeats, ServerStatus summed over the nodes.
 */
@Component
public class RelayObserver extends ObserverGrpc.ObserverImplBase {

    /** Without number, since or follow, Hubble answers with the last 20 flows. */
    private static final int DEFAULT_NUMBER = 20;
    private static final int MAX_NUMBER = 100_000;

    private final FlowHistory history;
    private final FlowTail tail;
    private final NodeDirectory nodes;
    private final String version;
    private final long startedNs = System.nanoTime();

    private final RelayMetrics metrics;

    public RelayObserver(FlowHistory history, FlowTail tail, NodeDirectory nodes, RelayMetrics metrics) {
        this.metrics = metrics;
        this.history = history;
        this.tail = tail;
        this.nodes = nodes;
        this.version = String.valueOf(RelayObserver.class.getPackage().getImplementationVersion());
    }

    @Override
    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responses) {
        ServerCallStreamObserver<GetFlowsResponse> call = (ServerCallStreamObserver<GetFlowsResponse>) responses;
        if (request.getNumber() > MAX_NUMBER) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription("number: at most " + MAX_NUMBER).asRuntimeException());
            return;
        }
        try {
            dev.weir.common.flow.FlowFilters.check(request.getWhitelistList(), request.getBlacklistList());
        } catch (IllegalArgumentException e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        Instant since = request.hasSince() ? instant(request.getSince()) : null;
        Instant until = request.hasUntil() ? instant(request.getUntil()) : null;
        // Follow from now: start following before reading history so nothing falls in between.
        // A flow published meanwhile comes both ways: the history's recent flows are remembered
        // and not sent again live.
        Instant followed = Instant.now().minusSeconds(10);
        try (FlowTail.Follower follower = request.getFollow() ? tail.follow() : null) {
            java.util.Set<String> recent = new java.util.HashSet<>();
            history(request, since, until, call, flow -> {
                if (request.getFollow() && !instant(flow.getTime()).isBefore(followed)) {
                    recent.add(flow.getUuid());
                }
            });
            if (!request.getFollow() || call.isCancelled()) {
                responses.onCompleted();
                return;
            }
            while (!call.isCancelled()) {
                Flow flow = follower.next(200, TimeUnit.MILLISECONDS);
                long lost = call.isReady() ? follower.takeLost() : 0; // kept for later while the client lags
                if (lost > 0) {
                    responses.onNext(GetFlowsResponse.newBuilder().setTime(now())
                            .setLostEvents(LostEvent.newBuilder().setSource(LostEventSource.OBSERVER_RING)
                                    .setNumEventsLost(lost)).build());
                }
                if (flow == null) {
                    continue;
                }
                if (!recent.isEmpty() && recent.remove(flow.getUuid())) {
                    continue;
                }
                if ((until == null || FlowHistory.within(flow, null, until))
                        && FlowFilters.passes(flow, request.getWhitelistList(), request.getBlacklistList())) {
                    if (call.isReady()) {
                        responses.onNext(response(flow));
                    } else {
                        // The client reads slower than flows come: what it cannot take is counted, not buffered.
                        follower.countLost(1);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SlowClient e) {
            responses.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
        } catch (FlowScan.Busy e) {
            responses.onError(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            if (!call.isCancelled()) {
                responses.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            }
        }
    }

    /** Sends the history part, telling {@code sent} of each flow sent. */
    private void history(GetFlowsRequest request, Instant since, Instant until,
            ServerCallStreamObserver<GetFlowsResponse> call, java.util.function.Consumer<Flow> sent) {
        long number = request.getNumber();
        if (number == 0 && request.getFollow() && since == null) {
            return; // follow only
        }
        if (request.getFirst() || (number == 0 && since != null)) {
            // streamed as found: the first result comes long before a big scan ends
            metrics.query("grpc", () -> history.stream(since, until, request.getWhitelistList(), request.getBlacklistList(),
                    number, flow -> {
                        if (!awaitReady(call)) {
                            return false;
                        }
                        call.onNext(response(flow));
                        sent.accept(flow);
                        return !call.isCancelled();
                    }), stats -> stats);
            return;
        }
        int n = (int) (number == 0 ? DEFAULT_NUMBER : number);
        FlowHistory.Result result = metrics.query("grpc", () -> history.query(since == null ? Instant.now().minusSeconds(3600)
                : since, until, request.getWhitelistList(), request.getBlacklistList(), n, false), RelayMetrics::stats);
        for (Flow f : result.flows()) {
            if (!awaitReady(call)) {
                return;
            }
            call.onNext(response(f));
            sent.accept(f);
        }
        if (result.undecodable() > 0) {
            call.onNext(GetFlowsResponse.newBuilder().setTime(now()).setLostEvents(LostEvent.newBuilder()
                    .setSource(LostEventSource.DECODE_ERROR).setNumEventsLost(result.undecodable())).build());
        }
    }

    /** How long a client may take no flows at all before the call ends. */
    private static final long SLOW_CLIENT_NANOS = java.time.Duration.ofSeconds(30).toNanos();

    /**
     * Waits until gRPC's flow control lets another message out, so that a slow client holds back
     * the sender instead of filling the relay's memory; false when the call was cancelled, and
     * {@link SlowClient} when the client took nothing for 30 s.
     */
    private static boolean awaitReady(ServerCallStreamObserver<GetFlowsResponse> call) {
        long deadline = System.nanoTime() + SLOW_CLIENT_NANOS;
        while (!call.isReady()) {
            if (call.isCancelled() || Thread.currentThread().isInterrupted()) {
                return false;
            }
            if (System.nanoTime() > deadline) {
                throw new SlowClient();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
        return true;
    }

    /** A client that read nothing for 30 s: its call ends RESOURCE_EXHAUSTED. */
    static final class SlowClient extends RuntimeException {
        SlowClient() {
            super("the client read nothing for 30 s");
        }
    }

    private static GetFlowsResponse response(Flow flow) {
        return GetFlowsResponse.newBuilder().setFlow(flow).setNodeName(flow.getNodeName()).setTime(flow.getTime()).build();
    }

    @Override
    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> responses) {
        GetNodesResponse.Builder answer = GetNodesResponse.newBuilder();
        for (NodeDirectory.NodeView n : nodes.nodes(Instant.now())) {
            answer.addNodes(Node.newBuilder().setName(n.name()).setVersion(n.version())
                    .setState(n.state() == NodeDirectory.State.CONNECTED ? NodeState.NODE_CONNECTED : NodeState.NODE_UNAVAILABLE)
                    .setLastSeen(Timestamps.fromMillis(n.lastSeen().toEpochMilli())).setFlowsSeen(n.flowsSeen())
                    .setFlowsLost(n.flowsLost()).setEndpoints(n.endpoints())
                    .setUptimeNs(n.started() == null ? 0 : Math.max(0, java.time.Duration.between(n.started(), Instant.now()).toNanos())));
        }
        responses.onNext(answer.build());
        responses.onCompleted();
    }

    @Override
    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> responses) {
        ServerStatusResponse.Builder status = ServerStatusResponse.newBuilder().setUptimeNs(System.nanoTime() - startedNs)
                .setVersion(version);
        NodeDirectory.Totals totals = nodes.totals(Instant.now());
        status.setNumConnectedNodes(totals.nodesConnected()).setNumUnavailableNodes(totals.nodesUnavailable())
                .setSeenFlows(totals.flowsSeen()).setLostFlows(totals.flowsLost()).setNumEndpoints(totals.endpoints())
                .setMaxMapPressure(totals.maxMapPressure());
        if (tail.undecodable() > 0) {
            status.addLostBySource(LostEvent.newBuilder().setSource(LostEventSource.DECODE_ERROR)
                    .setNumEventsLost(tail.undecodable()));
        }
        responses.onNext(status.build());
        responses.onCompleted();
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    private static Timestamp now() {
        return Timestamps.fromMillis(System.currentTimeMillis());
    }
}
