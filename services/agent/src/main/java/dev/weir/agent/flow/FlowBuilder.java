package dev.weir.agent.flow;

import com.google.protobuf.util.Timestamps;
import dev.weir.agent.datapath.DatapathEvent;
import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.endpoint.EndpointDirectory;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.ICMPv4;
import dev.weir.proto.flow.v1.ICMPv6;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.IPVersion;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyMatchType;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.SCTP;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.TCPFlags;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.UDP;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns a datapath event into a {@link Flow}: the endpoints on both sides with namespace, pod,
 * labels and workload, the identities, L3/L4, the verdict with its reason and match type, the
 * policy that decided (from the entry's cookie), and the DNS message when the event carries one.
 * Runs on the flow reader's thread.
 */
public final class FlowBuilder {

    /** Names the policy behind a map entry's cookie for an endpoint. */
    @FunctionalInterface
    public interface PolicyLookup {
        Optional<PolicyRef> policy(int endpointId, int cookie);

        /** The policies that isolate the endpoint in a direction: whose default deny drops what no entry allows. */
        default java.util.List<PolicyRef> isolating(int endpointId, boolean egress) {
            return java.util.List.of();
        }
    }

    /** What happened to DNS decoding, for metrics. */
    public interface DnsListener {
        /**
         * A DNS message decoded; owner when this observation is the one that counts it (see
         * {@link #ownsDnsMessage}), so each message is counted once however many points saw it.
         */
        void decoded(Dns dns, boolean owner);

        void malformed(String reason);
    }

    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;
    private static final int PROTO_ICMP = 1;
    private static final int PROTO_ICMPV6 = 58;
    private static final int PROTO_SCTP = 132;
    private static final int DNS_PORT = 53;

    private final String node;
    private final EndpointDirectory directory;
    private final PolicyLookup policies;
    private final DnsTracker dnsTracker;
    private final DnsListener dnsListener;
    /** Wall-clock nanoseconds minus CLOCK_MONOTONIC nanoseconds (the datapath's clock). */
    private final long wallOffsetNs;
    private final long uuidHigh = ThreadLocalRandom.current().nextLong();
    private long sequence;

    private final dev.weir.agent.dns.ResolvedNames names;

    public FlowBuilder(String node, EndpointDirectory directory, PolicyLookup policies, DnsTracker dnsTracker,
            DnsListener dnsListener, dev.weir.agent.dns.ResolvedNames names) {
        this.names = names;
        this.node = node;
        this.directory = directory;
        this.policies = policies;
        this.dnsTracker = dnsTracker;
        this.dnsListener = dnsListener;
        java.time.Instant now = java.time.Instant.now();
        // System.nanoTime() reads CLOCK_MONOTONIC on Linux, as bpf_ktime_get_ns() does.
        this.wallOffsetNs = now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
    }

    public Flow build(DatapathEvent event) {
        long seq = ++sequence;
        long wallNs = event.timestampNs() + wallOffsetNs;
        boolean egress = event.direction() == MapLayout.DIR_EGRESS;
        Flow.Builder flow = Flow.newBuilder()
                .setTime(Timestamps.fromNanos(wallNs))
                .setUuid(new UUID(uuidHigh, seq).toString())
                .setNodeName(node)
                .setNodeSequence(seq)
                .setVerdict(verdict(event.verdict()))
                .setTrafficDirection(egress ? TrafficDirection.EGRESS : TrafficDirection.INGRESS)
                .setIsReply(event.reply())
                .setEventType(eventType(event.type()))
                .setTracePoint(event.tracePoint() == 1 ? TracePoint.FROM_ENDPOINT : TracePoint.TO_ENDPOINT)
                .setPolicyMatchType(matchType(event.matchType()));
        if (event.dropReason() != 0) {
            DropReason reason = DropReason.forNumber(event.dropReason());
            flow.setDropReason(reason == null ? DropReason.DROP_REASON_UNKNOWN : reason);
        }
        Optional<LocalEndpoint> local = directory.local(event.ifindex());
        local.ifPresent(e -> flow.setInterfaceName(e.hostInterface()));
        if (event.source() != null) {
            flow.setIp(IP.newBuilder().setSource(event.source().getHostAddress())
                    .setDestination(event.destination().getHostAddress())
                    .setIpVersion(event.family() == MapLayout.FAMILY_IPV4 ? IPVersion.IPV4 : IPVersion.IPV6));
            Endpoint localSide = local.map(e -> localEndpoint(e)).orElse(Endpoint.getDefaultInstance());
            if (egress) {
                flow.setSource(localSide.toBuilder().setIdentity(event.srcIdentity()));
                flow.setDestination(remoteEndpoint(event.destination().getHostAddress(), event.dstIdentity()));
            } else {
                flow.setSource(remoteEndpoint(event.source().getHostAddress(), event.srcIdentity()));
                flow.setDestination(localSide.toBuilder().setIdentity(event.dstIdentity()));
            }
            // The names the local pod resolved to the other side's address, as Hubble's
            // destination_names (what the pod sends) and source_names (what it receives).
            if (local.isPresent()) {
                long nowMillis = wallNs / 1_000_000;
                int endpoint = local.get().endpointId();
                if (egress) {
                    flow.addAllDestinationNames(names.of(endpoint, flow.getIp().getDestination(), nowMillis));
                } else {
                    flow.addAllSourceNames(names.of(endpoint, flow.getIp().getSource(), nowMillis));
                }
            }
        }
        flow.setL4(layer4(event));
        if (event.policyCookie() != 0) {
            policies.policy(event.endpointId(), event.policyCookie()).ifPresent(ref -> {
                boolean denied = event.verdict() == MapLayout.VERDICT_DROPPED;
                if (denied) {
                    if (egress) {
                        flow.addEgressDeniedBy(ref);
                    } else {
                        flow.addIngressDeniedBy(ref);
                    }
                } else if (egress) {
                    flow.addEgressAllowedBy(ref);
                } else {
                    flow.addIngressAllowedBy(ref);
                }
            });
        }
        if (event.policyCookie() == 0 && event.verdict() == MapLayout.VERDICT_DROPPED
                && event.dropReason() == DropReason.POLICY_DENIED_VALUE) {
            for (PolicyRef ref : policies.isolating(event.endpointId(), egress)) {
                if (egress) {
                    flow.addEgressDeniedBy(ref);
                } else {
                    flow.addIngressDeniedBy(ref);
                }
            }
        }
        if (event.type() == MapLayout.EVENT_DNS && event.payload().length > 0) {
            dns(event, flow);
        }
        flow.setSummary(summary(flow));
        return flow.build();
    }

    private void dns(DatapathEvent event, Flow.Builder flow) {
        try {
            Dns dns = DnsDecoder.decode(event.payload(), event.protocol() == PROTO_TCP);
            Dns.Builder withLatency = dns.toBuilder();
            boolean fromServer = event.sport() == DNS_PORT;
            String client = fromServer ? event.destination().getHostAddress() : event.source().getHostAddress();
            int clientPort = fromServer ? event.dport() : event.sport();
            if (dns.getIsResponse()) {
                long latency = dnsTracker.response(client, clientPort, dns.getId(), event.timestampNs());
                if (latency >= 0) {
                    withLatency.setLatency(com.google.protobuf.util.Durations.fromNanos(latency));
                }
            } else {
                dnsTracker.query(client, clientPort, dns.getId(), event.timestampNs());
            }
            // The client side sees its query leave and its answer arrive.
            boolean clientSide = fromServer != (event.direction() == MapLayout.DIR_EGRESS);
            withLatency.setObservationSource(clientSide ? "client" : "server");
            Dns built = withLatency.build();
            flow.setDns(built);
            dnsListener.decoded(built, ownsDnsMessage(clientSide, fromServer ? flow.getDestination() : flow.getSource()));
        } catch (DnsDecoder.MalformedDns e) {
            dnsListener.malformed(e.getMessage());
        }
    }

    /**
     * Whether this observation point owns a DNS message: a message between a client pod and a
     * resolver pod is seen on both sides (on one node or two), and a response may reach the client
     * from a Service's address rather than the resolver pod's. The client's side owns it (its query
     * leaving, its answer arriving); the resolver's side only when the client is no pod of the
     * cluster (a host process), since then nothing saw it at the client.
     */
    static boolean ownsDnsMessage(boolean clientSide, dev.weir.proto.flow.v1.EndpointOrBuilder client) {
        return clientSide || client.getNamespace().isEmpty();
    }

    private Endpoint localEndpoint(LocalEndpoint e) {
        Endpoint.Builder b = Endpoint.newBuilder().setId(e.endpointId()).setNamespace(e.spec().namespace())
                .setPodName(e.spec().pod());
        e.spec().labels().forEach((k, v) -> b.addLabels(k + "=" + v));
        if (e.spec().workloadName() != null && !e.spec().workloadName().isEmpty()) {
            b.addWorkloads(Workload.newBuilder().setName(e.spec().workloadName()).setKind(e.spec().workloadKind()));
        }
        return b.build();
    }

    private Endpoint.Builder remoteEndpoint(String ip, int identity) {
        Endpoint.Builder b = Endpoint.newBuilder().setIdentity(identity);
        directory.byAddress(ip).ifPresentOrElse(e -> {
            b.setNamespace(e.getNamespace()).setPodName(e.getPodName());
            e.getLabelsMap().forEach((k, v) -> b.addLabels(k + "=" + v));
            if (!e.getWorkloadName().isEmpty()) {
                b.addWorkloads(Workload.newBuilder().setName(e.getWorkloadName()).setKind(e.getWorkloadKind()));
            }
        }, () -> b.addAllLabels(directory.labelsOf(identity)));
        return b;
    }

    private static Layer4 layer4(DatapathEvent e) {
        Layer4.Builder l4 = Layer4.newBuilder();
        switch (e.protocol()) {
            case PROTO_TCP -> {
                int f = e.tcpFlags();
                l4.setTcp(TCP.newBuilder().setSourcePort(e.sport()).setDestinationPort(e.dport())
                        .setFlags(TCPFlags.newBuilder().setFin((f & 0x01) != 0).setSyn((f & 0x02) != 0)
                                .setRst((f & 0x04) != 0).setPsh((f & 0x08) != 0).setAck((f & 0x10) != 0)
                                .setUrg((f & 0x20) != 0).setEce((f & 0x40) != 0).setCwr((f & 0x80) != 0)));
            }
            case PROTO_UDP -> l4.setUdp(UDP.newBuilder().setSourcePort(e.sport()).setDestinationPort(e.dport()));
            case PROTO_SCTP -> l4.setSctp(SCTP.newBuilder().setSourcePort(e.sport()).setDestinationPort(e.dport()));
            case PROTO_ICMP -> l4.setIcmpv4(ICMPv4.newBuilder().setType(e.sport()).setCode(e.dport()));
            case PROTO_ICMPV6 -> l4.setIcmpv6(ICMPv6.newBuilder().setType(e.sport()).setCode(e.dport()));
            default -> {
                // unknown protocols carry no L4 detail
            }
        }
        return l4.build();
    }

    static Verdict verdict(int code) {
        return switch (code) {
            case MapLayout.VERDICT_FORWARDED -> Verdict.FORWARDED;
            case MapLayout.VERDICT_DROPPED -> Verdict.DROPPED;
            case MapLayout.VERDICT_AUDIT -> Verdict.AUDIT;
            default -> Verdict.VERDICT_UNKNOWN;
        };
    }

    static EventType eventType(int code) {
        return switch (code) {
            case MapLayout.EVENT_NEW_CONNECTION -> EventType.NEW_CONNECTION;
            case MapLayout.EVENT_DROP -> EventType.DROP;
            case MapLayout.EVENT_CONNECTION_CLOSE -> EventType.CONNECTION_CLOSE;
            case MapLayout.EVENT_DNS -> EventType.DNS;
            default -> EventType.EVENT_TYPE_UNKNOWN;
        };
    }

    static PolicyMatchType matchType(int code) {
        PolicyMatchType type = PolicyMatchType.forNumber(code);
        return type == null ? PolicyMatchType.POLICY_MATCH_NONE : type;
    }

    /** A Hubble-like one-liner. */
    static String summary(Flow.Builder f) {
        StringBuilder s = new StringBuilder();
        if (f.hasDns() && !f.getDns().getQuery().isEmpty()) {
            Dns d = f.getDns();
            s.append("DNS ").append(d.getIsResponse() ? "Answer" : "Query").append(' ').append(d.getQuery());
            if (d.getQtypesCount() > 0) {
                s.append(' ').append(d.getQtypes(0));
            }
            if (d.getIsResponse()) {
                // As an operator reads it: NXDOMAIN, not 3; then what it answered.
                s.append(' ').append(DnsDecoder.rcodeName(d.getRcode()));
                int shown = Math.min(d.getIpsCount(), 4);
                for (int i = 0; i < shown; i++) {
                    s.append(i == 0 ? ' ' : ',').append(d.getIps(i));
                }
                if (d.getIpsCount() > shown) {
                    s.append(" +").append(d.getIpsCount() - shown);
                }
                if (d.getCnamesCount() > 0) {
                    s.append(" CNAME ").append(d.getCnames(0));
                }
                if (d.getIpsCount() > 0 || d.getCnamesCount() > 0) {
                    s.append(" TTL ").append(d.getTtl());
                }
            }
        } else if (f.getL4().hasTcp()) {
            TCPFlags t = f.getL4().getTcp().getFlags();
            s.append("TCP Flags:");
            if (t.getSyn()) {
                s.append(" SYN");
            }
            if (t.getAck()) {
                s.append(" ACK");
            }
            if (t.getFin()) {
                s.append(" FIN");
            }
            if (t.getRst()) {
                s.append(" RST");
            }
            if (t.getPsh()) {
                s.append(" PSH");
            }
        } else if (f.getL4().hasUdp()) {
            s.append("UDP");
        } else if (f.getL4().hasIcmpv4()) {
            s.append("ICMPv4 type ").append(f.getL4().getIcmpv4().getType());
        } else if (f.getL4().hasIcmpv6()) {
            s.append("ICMPv6 type ").append(f.getL4().getIcmpv6().getType());
        } else if (f.getL4().hasSctp()) {
            s.append("SCTP");
        }
        if (f.getVerdict() == Verdict.DROPPED) {
            s.append(" (").append(f.getDropReason()).append(')');
        }
        return s.toString().trim();
    }
}
