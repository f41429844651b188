package dev.weir.agent.observer;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import dev.weir.agent.flow.FlowRing;
import dev.weir.agent.flow.LostEvents;
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
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * The node's Observer API: history from the flow ring (since/until, first or last N, filters),
 * then, with follow, new flows as they come. A follower that cannot keep up loses flows, and is
 * told so with a LostEvent, rather than slowing the flow reader down.
 */
public final class ObserverService extends ObserverGrpc.ObserverImplBase {

    private static final int DEFAULT_NUMBER = 20;
    private static final int FOLLOW_BUFFER = 4096;

    private final String node;
    private final String version;
    private final FlowRing ring;
    private final LostEvents lost;
    private final IntSupplier endpoints;
    private final DoubleSupplier mapPressure;
    private final long startedNs = System.nanoTime();

    public ObserverService(String node, String version, FlowRing ring, LostEvents lost, IntSupplier endpoints,
            DoubleSupplier mapPressure) {
        this.node = node;
        this.version = version;
        this.ring = ring;
        this.lost = lost;
        this.endpoints = endpoints;
        this.mapPressure = mapPressure;
    }

    @Override
    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responses) {
        ServerCallStreamObserver<GetFlowsResponse> call = (ServerCallStreamObserver<GetFlowsResponse>) responses;
        try {
            dev.weir.common.flow.FlowFilters.check(request.getWhitelistList(), request.getBlacklistList());
        } catch (IllegalArgumentException e) {
            responses.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        BlockingQueue<Flow> live = new ArrayBlockingQueue<>(FOLLOW_BUFFER);
        AtomicLong overflow = new AtomicLong();
        Runnable unfollow = request.getFollow() ? ring.follow(flow -> {
            if (!live.offer(flow)) {
                overflow.incrementAndGet();
            }
        }) : () -> { };
        try {
            for (Flow flow : history(request)) {
                responses.onNext(response(flow));
            }
            if (!request.getFollow()) {
                responses.onCompleted();
                return;
            }
            while (!call.isCancelled()) {
                Flow flow = live.poll(200, TimeUnit.MILLISECONDS);
                long missed = overflow.getAndSet(0);
                if (missed > 0) {
                    responses.onNext(GetFlowsResponse.newBuilder().setNodeName(node).setTime(now())
                            .setLostEvents(LostEvent.newBuilder().setSource(LostEventSource.OBSERVER_RING)
                                    .setNumEventsLost(missed)).build());
                }
                if (flow != null && matches(request, flow)) {
                    responses.onNext(response(flow));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            unfollow.run();
        }
    }

    private List<Flow> history(GetFlowsRequest request) {
        List<Flow> matching = new ArrayList<>();
        for (Flow flow : ring.snapshot()) {
            if (matches(request, flow)) {
                matching.add(flow);
            }
        }
        long number = request.getNumber() > 0 ? request.getNumber()
                : (request.getFollow() || request.hasSince() ? 0 : DEFAULT_NUMBER);
        if (number == 0 || matching.size() <= number) {
            return request.getFollow() && request.getNumber() == 0 && !request.hasSince() ? List.of() : matching;
        }
        if (request.getFirst()) {
            return matching.subList(0, (int) number);
        }
        Deque<Flow> last = new ArrayDeque<>(matching.subList(matching.size() - (int) number, matching.size()));
        return new ArrayList<>(last);
    }

    private static boolean matches(GetFlowsRequest request, Flow flow) {
        if (request.hasSince() && Timestamps.compare(flow.getTime(), request.getSince()) < 0) {
            return false;
        }
        if (request.hasUntil() && Timestamps.compare(flow.getTime(), request.getUntil()) > 0) {
            return false;
        }
        return FlowFilters.passes(flow, request.getWhitelistList(), request.getBlacklistList());
    }

    private GetFlowsResponse response(Flow flow) {
        return GetFlowsResponse.newBuilder().setFlow(flow).setNodeName(node).setTime(flow.getTime()).build();
    }

    private static Timestamp now() {
        return Timestamps.fromMillis(System.currentTimeMillis());
    }

    /** The namespaces of the pods in the flows the ring holds, sorted (Hubble's GetNamespaces). */
    public java.util.List<String> namespaces() {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (dev.weir.proto.flow.v1.Flow flow : ring.snapshot()) {
            if (!flow.getSource().getNamespace().isEmpty()) {
                names.add(flow.getSource().getNamespace());
            }
            if (!flow.getDestination().getNamespace().isEmpty()) {
                names.add(flow.getDestination().getNamespace());
            }
        }
        return java.util.List.copyOf(names);
    }

    @Override
    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> responses) {
        responses.onNext(GetNodesResponse.newBuilder().addNodes(Node.newBuilder().setName(node).setVersion(version)
                .setState(NodeState.NODE_CONNECTED).setLastSeen(now()).setFlowsSeen(ring.seen())
                .setFlowsLost(lost.total()).setEndpoints(endpoints.getAsInt())
                .setUptimeNs(System.nanoTime() - startedNs)).build());
        responses.onCompleted();
    }

    @Override
    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> responses) {
        ServerStatusResponse.Builder status = ServerStatusResponse.newBuilder()
                .setNumFlows(Math.min(ring.seen(), ring.capacity())).setMaxFlows(ring.capacity())
                .setSeenFlows(ring.seen()).setLostFlows(lost.total())
                .setUptimeNs(System.nanoTime() - startedNs).setNumConnectedNodes(1)
                .setNumEndpoints(endpoints.getAsInt()).setMaxMapPressure(mapPressure.getAsDouble()).setVersion(version);
        lost.snapshot().forEach((source, count) -> {
            if (count > 0) {
                status.addLostBySource(LostEvent.newBuilder().setSource(source).setNumEventsLost(count));
            }
        });
        responses.onNext(status.build());
        responses.onCompleted();
    }
}
