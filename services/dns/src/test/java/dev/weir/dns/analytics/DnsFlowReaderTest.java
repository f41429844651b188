package dev.weir.dns.analytics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.weir.proto.dns.v1.DnsEvent;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Ethernet;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.UDP;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.flow.v1.Workload;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The DNS analytics' partial flow decoder against protobuf's own: the same DNS events for every
 * flow protobuf accepts (flows of every shape, fields occurring twice, mutated bytes), and a
 * refusal only of bytes protobuf refuses too.
 */
class DnsFlowReaderTest {

    private final SplittableRandom random = new SplittableRandom(20261201);
    /** One reader for all: its table of recent strings is shared, as a stream task's is. */
    private final DnsFlowReader reader = new DnsFlowReader();

    @Test
    void everyValidFlowGivesTheEventTheWholeFlowGives() throws Exception {
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = randomFlow().toByteArray();
            assertSameEvent(bytes);
        }
    }

    @Test
    void fieldsThatOccurTwiceAreMergedAsProtobufMergesThem() throws Exception {
        for (int i = 0; i < 5_000; i++) {
            byte[] first = randomFlow().toByteArray();
            byte[] second = randomFlow().toByteArray();
            byte[] both = new byte[first.length + second.length];
            System.arraycopy(first, 0, both, 0, first.length);
            System.arraycopy(second, 0, both, first.length, second.length);
            assertSameEvent(both);
        }
    }

    @Test
    void fieldsWrittenExplicitlyEvenAtTheirDefaultsReadAsProtobufReadsThem() throws Exception {
        // Serializers leave defaults out; a hand-made flow need not: a later "false" or 0 overwrites.
        for (int i = 0; i < 50_000; i++) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
            for (int f = 1 + random.nextInt(12); f > 0; f--) {
                fragment(out);
            }
            out.flush();
            assertSameEvent(bytes.toByteArray());
        }
    }

    /** One field of those the reader reads, nested as in a flow, with a value that may be its default. */
    private void fragment(com.google.protobuf.CodedOutputStream out) throws java.io.IOException {
        switch (random.nextInt(9)) {
            case 0 -> out.writeEnum(Flow.VERDICT_FIELD_NUMBER, random.nextInt(3));
            case 1 -> out.writeEnum(Flow.DROP_REASON_FIELD_NUMBER, random.nextBoolean() ? 0 : DropReason.POLICY_DENIED_VALUE);
            case 2 -> out.writeString(Flow.NODE_NAME_FIELD_NUMBER, pick("", "node-a"));
            case 3 -> out.writeBytes(Flow.TIME_FIELD_NUMBER, Timestamp.newBuilder().setSeconds(random.nextInt(2) * 1_780_000_000L)
                    .build().toByteString());
            case 4 -> out.writeBytes(Flow.IP_FIELD_NUMBER, explicit(o -> {
                o.writeString(IP.SOURCE_FIELD_NUMBER, pick("", "198.18.0.1"));
                o.writeString(IP.DESTINATION_FIELD_NUMBER, pick("", "198.18.0.53"));
            }));
            case 5 -> {
                // Any member of the Layer4 oneof (TCP, UDP, ICMPv4, ICMPv6, SCTP), ports possibly explicit zeros.
                com.google.protobuf.ByteString member = explicit(p -> {
                    if (random.nextBoolean()) {
                        p.writeUInt32(1, random.nextBoolean() ? 0 : 40000);
                    }
                    if (random.nextBoolean()) {
                        p.writeUInt32(2, random.nextBoolean() ? 0 : 53);
                    }
                });
                int number = 1 + random.nextInt(5);
                out.writeBytes(Flow.L4_FIELD_NUMBER, explicit(o -> o.writeBytes(number, member)));
            }
            case 6, 7 -> out.writeBytes(Flow.DNS_FIELD_NUMBER, explicit(o -> {
                switch (random.nextInt(9)) {
                    case 0 -> o.writeString(Dns.QUERY_FIELD_NUMBER, pick("", "Cart.shop.svc.cluster.local."));
                    case 1 -> o.writeString(Dns.QTYPES_FIELD_NUMBER, pick("", "A", "AAAA"));
                    case 2 -> o.writeUInt32(Dns.RCODE_FIELD_NUMBER, random.nextInt(2) * 3);
                    case 3 -> o.writeUInt32(Dns.ID_FIELD_NUMBER, random.nextInt(2) * 7);
                    case 4 -> o.writeBool(Dns.IS_RESPONSE_FIELD_NUMBER, random.nextBoolean());
                    case 5 -> o.writeBytes(Dns.LATENCY_FIELD_NUMBER, explicit(d -> {
                        d.writeInt64(1, random.nextInt(2));
                        d.writeInt32(2, random.nextInt(2) * 5_000_000);
                    }));
                    case 6 -> o.writeBool(Dns.TRUNCATED_FIELD_NUMBER, random.nextBoolean());
                    case 7 -> o.writeBool(Dns.OVER_TCP_FIELD_NUMBER, random.nextBoolean());
                    default -> o.writeString(Dns.OBSERVATION_SOURCE_FIELD_NUMBER, pick("", "client", "server"));
                }
            }));
            default -> out.writeBytes(random.nextBoolean() ? Flow.SOURCE_FIELD_NUMBER : Flow.DESTINATION_FIELD_NUMBER,
                    explicit(o -> {
                        switch (random.nextInt(3)) {
                            case 0 -> o.writeString(Endpoint.NAMESPACE_FIELD_NUMBER, pick("", "shop"));
                            case 1 -> o.writeString(Endpoint.POD_NAME_FIELD_NUMBER, pick("", "cart-1"));
                            default -> o.writeBytes(Endpoint.WORKLOADS_FIELD_NUMBER,
                                    explicit(w -> w.writeString(Workload.NAME_FIELD_NUMBER, pick("", "cart", "web"))));
                        }
                    }));
        }
    }

    private interface Writer {
        void write(com.google.protobuf.CodedOutputStream out) throws java.io.IOException;
    }

    private static com.google.protobuf.ByteString explicit(Writer writer) throws java.io.IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
        writer.write(out);
        out.flush();
        return com.google.protobuf.ByteString.copyFrom(bytes.toByteArray());
    }

    @Test
    void mutatedBytesAreRefusedOnlyWhenProtobufRefusesThem() throws Exception {
        int refusedByBoth = 0;
        int acceptedByReaderOnly = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] bytes = mutate(randomFlow().toByteArray());
            Flow whole;
            try {
                whole = Flow.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                whole = null;
            }
            DnsFlowFields read;
            try {
                read = reader.read(bytes);
            } catch (InvalidProtocolBufferException e) {
                read = null;
            }
            if (whole != null) {
                assertThat(read).as("protobuf accepts what the reader refused").isNotNull();
                assertThat(DnsEvents.of(read)).isEqualTo(DnsEvents.of(whole));
            } else if (read == null) {
                refusedByBoth++;
            } else {
                acceptedByReaderOnly++; // broken only in fields the reader skips
            }
        }
        // The mutations reach both kinds of damage: in fields read and in fields skipped.
        assertThat(refusedByBoth).isPositive();
        assertThat(acceptedByReaderOnly).isPositive();
    }

    @Test
    void damageInAFieldReadIsRefused() {
        Flow flow = Flow.newBuilder().setNodeName("node-a").build();
        byte[] bytes = flow.toByteArray();
        bytes[bytes.length - 1] = (byte) 0xff; // node_name is no longer UTF-8
        assertThatThrownBy(() -> reader.read(bytes)).isInstanceOf(InvalidProtocolBufferException.class);
        assertThatThrownBy(() -> reader.read(new byte[] {0x6a, 0x05, 0x0a})) // dns, truncated
                .isInstanceOf(InvalidProtocolBufferException.class);
    }

    private void assertSameEvent(byte[] bytes) throws InvalidProtocolBufferException {
        Optional<DnsEvent> expected = DnsEvents.of(Flow.parseFrom(bytes));
        assertThat(DnsEvents.of(reader.read(bytes))).isEqualTo(expected);
    }

    private byte[] mutate(byte[] bytes) {
        byte[] mutated = bytes.clone();
        switch (random.nextInt(3)) {
            case 0 -> mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
            case 1 -> mutated[random.nextInt(mutated.length)] ^= (byte) (1 << random.nextInt(8));
            default -> mutated = java.util.Arrays.copyOf(mutated, random.nextInt(mutated.length));
        }
        return mutated;
    }

    private Flow randomFlow() {
        boolean response = random.nextBoolean();
        Flow.Builder flow = Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(1_780_000_000L + random.nextInt(100_000))
                        .setNanos(random.nextInt(1_000_000_000)))
                .setUuid("uuid-" + random.nextLong())
                .setNodeName(pick("node-a", "node-b", ""))
                .setVerdict(random.nextInt(5) == 0 ? Verdict.DROPPED : Verdict.FORWARDED)
                .setDropReasonValue(random.nextInt(4) == 0 ? 999 : random.nextBoolean() ? DropReason.POLICY_DENIED_VALUE
                        : DropReason.INVALID_PACKET_VALUE)
                .setEventType(EventType.DNS)
                .setInterfaceName("lxc" + random.nextInt(100))
                .setEthernet(Ethernet.newBuilder().setSource("0a:00:00:00:00:01").setDestination("0a:00:00:00:00:02"))
                .setIp(IP.newBuilder().setSource("198.18.0." + random.nextInt(256)).setDestination("198.18.1." + random.nextInt(256)))
                .setSource(endpoint())
                .setDestination(endpoint())
                .addSourceNames("cart.shop.svc.cluster.local")
                .addDestinationNames(pick("api.payments.svc.cluster.local", "kube-dns.kube-system.svc.cluster.local"))
                .setSummary("DNS " + (response ? "answer" : "query"))
                .setNodeSequence(random.nextLong() & Long.MAX_VALUE);
        int l4 = random.nextInt(8);
        if (l4 == 0) {
            flow.setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(random.nextInt(65536)).setDestinationPort(53)
                    .setFlags(dev.weir.proto.flow.v1.TCPFlags.newBuilder().setSyn(true))));
        } else if (l4 == 1) {
            flow.setL4(Layer4.newBuilder().setIcmpv4(dev.weir.proto.flow.v1.ICMPv4.newBuilder().setType(3).setCode(3)));
        } else if (l4 == 2) {
            flow.setL4(Layer4.newBuilder().setSctp(dev.weir.proto.flow.v1.SCTP.newBuilder().setSourcePort(5000)
                    .setDestinationPort(53)));
        } else if (l4 < 7) {
            flow.setL4(Layer4.newBuilder().setUdp(UDP.newBuilder().setSourcePort(random.nextInt(65536))
                    .setDestinationPort(random.nextInt(3) == 0 ? random.nextInt(65536) : 53)));
        }
        if (random.nextInt(6) != 0) {
            Dns.Builder dns = Dns.newBuilder().setQuery(pick("cart.shop.svc.cluster.local.", "API.example.", "x."))
                    .setId(random.nextInt(65536)).setIsResponse(response)
                    .setObservationSource(pick("client", "server", "client"))
                    .setTruncated(random.nextInt(10) == 0).setOverTcp(random.nextInt(10) == 0);
            if (random.nextBoolean()) {
                dns.addQtypes(pick("A", "AAAA", "SRV"));
            }
            if (response) {
                dns.setRcode(random.nextInt(6)).addIps("198.18.2.1").setTtl(30).addCnames("a.example.").addRrtypes("A");
                if (random.nextBoolean()) {
                    dns.setLatency(Duration.newBuilder().setSeconds(random.nextInt(3)).setNanos(random.nextInt(1_000_000_000)));
                }
            }
            flow.setDns(dns);
        }
        for (int i = random.nextInt(3); i > 0; i--) {
            flow.addEgressDeniedBy(policy());
            flow.addIngressAllowedBy(policy());
        }
        if (random.nextBoolean()) {
            flow.addIngressDeniedBy(policy());
        }
        return flow.build();
    }

    private Endpoint endpoint() {
        Endpoint.Builder endpoint = Endpoint.newBuilder().setIdentity(random.nextInt(70_000))
                .setNamespace(pick("shop", "kube-system", "")).setPodName(pick("cart-7d9f", "coredns-1", ""))
                .addLabels("k8s:app=cart").addLabels("k8s:io.kubernetes.pod.namespace=shop").setId(random.nextInt(4096))
                .setClusterName("default");
        for (int i = random.nextInt(3); i > 0; i--) {
            endpoint.addWorkloads(Workload.newBuilder().setName(pick("cart", "coredns")).setKind("Deployment"));
        }
        return endpoint.build();
    }

    private PolicyRef policy() {
        return PolicyRef.newBuilder().setKind("NetworkPolicy").setNamespace("shop").setName("deny-" + random.nextInt(10))
                .setRevision(random.nextInt(100)).build();
    }

    private String pick(String... values) {
        return values[random.nextInt(values.length)];
    }
}
