package dev.weir.platform;

import com.google.protobuf.Timestamp;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.IPVersion;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.TCPFlags;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import java.util.UUID;

/** Flows for tests, with most fields set so that a round trip shows they all survive. */
final class Flows {

    private Flows() {
    }

    static Flow denied(String node, int sequence) {
        return Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(1_790_000_000L + sequence).setNanos(1234))
                .setUuid(UUID.randomUUID().toString())
                .setNodeName(node)
                .setVerdict(Verdict.DROPPED)
                .setDropReason(DropReason.POLICY_DENY)
                .setTrafficDirection(TrafficDirection.INGRESS)
                .setEventType(EventType.DROP)
                .setInterfaceName("weir1a2b3c")
                .setIp(IP.newBuilder().setSource("198.18.0.10").setDestination("198.18.0.11").setIpVersion(IPVersion.IPV4))
                .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(40000 + sequence).setDestinationPort(80)
                        .setFlags(TCPFlags.newBuilder().setSyn(true))))
                .setSource(Endpoint.newBuilder().setIdentity(300).setNamespace("x").setPodName("a").addLabels("pod=a"))
                .setDestination(Endpoint.newBuilder().setIdentity(301).setNamespace("y").setPodName("b").addLabels("pod=b"))
                .addIngressDeniedBy(PolicyRef.newBuilder().setNamespace("y").setName("deny-x").setKind("WeirPolicy")
                        .setRevision(3).setCookie(77))
                .setNodeSequence(sequence)
                .build();
    }
}
