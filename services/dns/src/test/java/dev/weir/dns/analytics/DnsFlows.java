package dev.weir.dns.analytics;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.UDP;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;

/** DNS flows as an agent publishes them for a client pod on its node: the client's view. */
public final class DnsFlows {

    static final String SERVER = "198.18.0.53";

    private final String node;
    private final String namespace;
    private final String pod;
    private final String ip;
    private int port = 40000;

    public DnsFlows(String node, String namespace, String pod, String ip) {
        this.node = node;
        this.namespace = namespace;
        this.pod = pod;
        this.ip = ip;
    }

    public Flow query(long timeMs, int id, String qtype, String name) {
        return flow(timeMs, false).setDns(Dns.newBuilder().setQuery(name).addQtypes(qtype).setId(id)
                .setObservationSource("client")).build();
    }

    public Flow response(long timeMs, int id, String qtype, String name, int rcode, long latencyMs) {
        return flow(timeMs, true).setDns(Dns.newBuilder().setQuery(name).addQtypes(qtype).setId(id).setIsResponse(true)
                .setRcode(rcode).setObservationSource("client")
                .setLatency(Duration.newBuilder().setNanos((int) (latencyMs * 1_000_000)))).build();
    }

    /** A query the source's egress policy dropped: no payload parsed, the deny's policies named. */
    public Flow droppedQuery(long timeMs, String policy) {
        Flow.Builder flow = flow(timeMs, false).setVerdict(Verdict.DROPPED).setDropReason(DropReason.POLICY_DENIED)
                .setEventType(EventType.DROP);
        String[] parts = policy.split("/");
        flow.addEgressDeniedBy(PolicyRef.newBuilder().setKind(parts[0]).setNamespace(parts[1]).setName(parts[2]));
        return flow.build();
    }

    private Flow.Builder flow(long timeMs, boolean response) {
        Endpoint client = Endpoint.newBuilder().setNamespace(namespace).setPodName(pod)
                .addWorkloads(Workload.newBuilder().setName(pod.replaceAll("-[a-z0-9]+$", "")).setKind("Deployment")).build();
        Endpoint server = Endpoint.newBuilder().setNamespace("kube-system").setPodName("coredns").build();
        return Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(timeMs / 1000).setNanos((int) (timeMs % 1000) * 1_000_000))
                .setNodeName(node).setVerdict(Verdict.FORWARDED).setEventType(EventType.DNS)
                .setTrafficDirection(response ? TrafficDirection.INGRESS : TrafficDirection.EGRESS)
                .setIp(IP.newBuilder().setSource(response ? SERVER : ip).setDestination(response ? ip : SERVER))
                .setL4(Layer4.newBuilder().setUdp(UDP.newBuilder().setSourcePort(response ? 53 : port)
                        .setDestinationPort(response ? port : 53)))
                .setSource(response ? server : client).setDestination(response ? client : server);
    }
}
