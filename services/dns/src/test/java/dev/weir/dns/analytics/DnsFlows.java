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
    private long sequence;

    public DnsFlows(String node, String namespace, String pod, String ip) {
        this.node = node;
        this.namespace = namespace;
        this.pod = pod;
        this.ip = ip;
    }

    public Flow query(long timeMs, int id, String qtype, String name) {
        return flow(timeMs, false).setDns(Dns.newBuilder().setQuery(name).addQtypes(qtype).setId(id)
                .setObservationSource("client")).setSummary("DNS Query " + name + " " + qtype).build();
    }

    public Flow response(long timeMs, int id, String qtype, String name, int rcode, long latencyMs) {
        Dns.Builder dns = Dns.newBuilder().setQuery(name).addQtypes(qtype).setId(id).setIsResponse(true)
                .setRcode(rcode).setObservationSource("client")
                .setLatency(Duration.newBuilder().setNanos((int) (latencyMs * 1_000_000)));
        if (rcode == 0 && "A".equals(qtype)) {
            dns.addIps("198.18.200." + (Math.abs(name.hashCode()) % 250 + 1)).setTtl(30).addRrtypes("A");
        }
        Flow.Builder flow = flow(timeMs, true).setDns(dns);
        return flow.setSummary("DNS Answer " + name + " " + qtype + " " + (rcode == 0 ? "NOERROR" : "rcode " + rcode)
                + (dns.getIpsCount() > 0 ? " " + dns.getIps(0) + " TTL 30" : "")).build();
    }

    /** A query the source's egress policy dropped: no payload parsed, the deny's policies named. */
    public Flow droppedQuery(long timeMs, String policy) {
        Flow.Builder flow = flow(timeMs, false).clearEgressAllowedBy().setVerdict(Verdict.DROPPED).setDropReason(DropReason.POLICY_DENIED)
                .setEventType(EventType.DROP);
        String[] parts = policy.split("/");
        flow.addEgressDeniedBy(PolicyRef.newBuilder().setKind(parts[0]).setNamespace(parts[1]).setName(parts[2]));
        return flow.build();
    }

    /**
     * Shaped as the agent's flow builder writes a flow: identities, endpoint ids, the pods' labels,
     * a uuid and sequence, the interface, the policy that allowed it and a summary, besides what
     * the DNS analytics read.
     */
    private Flow.Builder flow(long timeMs, boolean response) {
        String app = pod.replaceAll("-[a-z0-9]+$", "");
        Endpoint client = Endpoint.newBuilder().setIdentity(10_000 + Math.abs(app.hashCode()) % 50_000)
                .setNamespace(namespace).setPodName(pod).setId(100 + Math.abs(pod.hashCode()) % 3000)
                .addLabels("app=" + app).addLabels("pod-template-hash=5d8f7b9c4").addLabels("tier=backend")
                .addLabels("io.kubernetes.pod.namespace=" + namespace)
                .addWorkloads(Workload.newBuilder().setName(app).setKind("Deployment")).build();
        Endpoint server = Endpoint.newBuilder().setIdentity(102).setNamespace("kube-system").setPodName("coredns")
                .addLabels("k8s-app=kube-dns").addLabels("pod-template-hash=7db6d8ff4d")
                .addLabels("io.kubernetes.pod.namespace=kube-system")
                .addWorkloads(Workload.newBuilder().setName("coredns").setKind("Deployment")).build();
        sequence++;
        return Flow.newBuilder()
                .setUuid(new java.util.UUID(node.hashCode(), sequence).toString()).setNodeSequence(sequence)
                .setInterfaceName("lxc" + Integer.toHexString(pod.hashCode()))
                .setTracePoint(response ? dev.weir.proto.flow.v1.TracePoint.TO_ENDPOINT
                        : dev.weir.proto.flow.v1.TracePoint.FROM_ENDPOINT)
                .addEgressAllowedBy(PolicyRef.newBuilder().setKind("NetworkPolicy").setNamespace(namespace)
                        .setName("allow-dns").setRevision(3).setCookie(7))
                .setTime(Timestamp.newBuilder().setSeconds(timeMs / 1000).setNanos((int) (timeMs % 1000) * 1_000_000))
                .setNodeName(node).setVerdict(Verdict.FORWARDED).setEventType(EventType.DNS)
                .setTrafficDirection(response ? TrafficDirection.INGRESS : TrafficDirection.EGRESS)
                .setIp(IP.newBuilder().setSource(response ? SERVER : ip).setDestination(response ? ip : SERVER)
                        .setIpVersion(dev.weir.proto.flow.v1.IPVersion.IPV4))
                .setL4(Layer4.newBuilder().setUdp(UDP.newBuilder().setSourcePort(response ? 53 : port)
                        .setDestinationPort(response ? port : 53)))
                .setSource(response ? server : client).setDestination(response ? client : server);
    }
}
