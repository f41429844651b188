package dev.weir.dns.analytics;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.weir.common.flow.FlowFilters;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.flow.v1.Workload;
import java.io.IOException;

/**
 * Reads from a flow's bytes only the fields {@link DnsEvents} looks at, into
 * {@link DnsFlowFields}, and skips the rest unparsed: labels, names, summaries, Ethernet, the
 * policies that allowed a flow and the answers' addresses are most of a flow's bytes, and
 * building the flow's messages most of the cost of decoding one; the DNS analytics need none.
 *
 * <p>Fields are read with protobuf's own semantics (a message field that occurs twice is merged,
 * a scalar's last occurrence wins, a oneof member replaces another, a field with an unexpected
 * wire type is an unknown field), so for any bytes {@link Flow#parseFrom} accepts, the fields
 * read equal those of the parsed flow. What is not read is not validated either: a flow whose
 * skipped label is not UTF-8 still counts as DNS, while anything wrong in the fields read is
 * refused as {@link Flow#parseFrom} refuses it.
 */
final class DnsFlowReader {

    private static final ExtensionRegistryLite NO_EXTENSIONS = ExtensionRegistryLite.getEmptyRegistry();
    private static final int VARINT = WireFormat.WIRETYPE_VARINT;
    private static final int DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    /** Field numbers shared by google.protobuf.Timestamp and Duration. */
    private static final int SECONDS = 1;
    private static final int NANOS = 2;
    /** TCP, UDP and SCTP number their ports alike. */
    private static final int SOURCE_PORT = 1;
    private static final int DESTINATION_PORT = 2;

    private final RecentStrings strings = new RecentStrings();
    /** The flow being read (a reader reads one flow at a time: one per stream task). */
    private byte[] bytes;

    DnsFlowFields read(byte[] flowBytes) throws InvalidProtocolBufferException {
        this.bytes = flowBytes;
        CodedInputStream input = CodedInputStream.newInstance(flowBytes);
        DnsFlowFields flow = new DnsFlowFields();
        try {
            readFlow(input, flow);
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        return flow;
    }

    /** A proto3 string field's value, read from the flow's bytes through the table of recent strings. */
    private String string(CodedInputStream in) throws IOException {
        int length = in.readRawVarint32();
        if (length < 0) {
            throw new InvalidProtocolBufferException("a string with a negative length");
        }
        int offset = in.getTotalBytesRead();
        in.skipRawBytes(length); // refuses a string that runs past its message or the flow
        return strings.get(bytes, offset, length);
    }

    private void readFlow(CodedInputStream in, DnsFlowFields f) throws IOException {
        int[] memberPorts = new int[2 * (Layer4.SCTP_FIELD_NUMBER + 1)];
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            int field = WireFormat.getTagFieldNumber(tag);
            int type = WireFormat.getTagWireType(tag);
            if (type == VARINT && field == Flow.VERDICT_FIELD_NUMBER) {
                f.verdict = in.readEnum();
            } else if (type == VARINT && field == Flow.DROP_REASON_FIELD_NUMBER) {
                f.dropReason = in.readEnum();
            } else if (type != DELIMITED) {
                skip(in, tag);
            } else if (field == Flow.TIME_FIELD_NUMBER) {
                int limit = enter(in);
                for (int t = in.readTag(); t != 0; t = in.readTag()) {
                    if (t == varint(SECONDS)) {
                        f.timeSeconds = in.readInt64();
                    } else if (t == varint(NANOS)) {
                        f.timeNanos = in.readInt32();
                    } else {
                        skip(in, t);
                    }
                }
                leave(in, limit);
            } else if (field == Flow.NODE_NAME_FIELD_NUMBER) {
                f.nodeName = string(in);
            } else if (field == Flow.IP_FIELD_NUMBER) {
                readIp(in, f);
            } else if (field == Flow.L4_FIELD_NUMBER) {
                readLayer4(in, f, memberPorts);
            } else if (field == Flow.DNS_FIELD_NUMBER) {
                f.hasDns = true;
                readDns(in, f);
            } else if (field == Flow.SOURCE_FIELD_NUMBER) {
                readEndpoint(in, f.source);
            } else if (field == Flow.DESTINATION_FIELD_NUMBER) {
                readEndpoint(in, f.destination);
            } else if (field == Flow.EGRESS_DENIED_BY_FIELD_NUMBER) {
                f.egressDeniedBy.add(FlowFilters.policyName(in.readMessage(PolicyRef.parser(), NO_EXTENSIONS)));
            } else if (field == Flow.INGRESS_DENIED_BY_FIELD_NUMBER) {
                f.ingressDeniedBy.add(FlowFilters.policyName(in.readMessage(PolicyRef.parser(), NO_EXTENSIONS)));
            } else {
                skip(in, tag);
            }
        }
    }

    private void readIp(CodedInputStream in, DnsFlowFields f) throws IOException {
        int limit = enter(in);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == delimited(IP.SOURCE_FIELD_NUMBER)) {
                f.ipSource = string(in);
            } else if (t == delimited(IP.DESTINATION_FIELD_NUMBER)) {
                f.ipDestination = string(in);
            } else {
                skip(in, t);
            }
        }
        leave(in, limit);
    }

    /**
     * The Layer4 oneof as protobuf-java parses it: the last member read is the protocol; each
     * member merges every occurrence of itself, even across another member read in between
     * (protobuf-java keeps a member's builder once it made one). So the ports are kept per member,
     * and the protocol's are the flow's.
     */
    private void readLayer4(CodedInputStream in, DnsFlowFields f, int[] memberPorts) throws IOException {
        int limit = enter(in);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            int member = WireFormat.getTagFieldNumber(t);
            if (WireFormat.getTagWireType(t) != DELIMITED || member < Layer4.TCP_FIELD_NUMBER
                    || member > Layer4.SCTP_FIELD_NUMBER) {
                skip(in, t);
                continue;
            }
            f.l4Case = member;
            int inner = enter(in);
            for (int p = in.readTag(); p != 0; p = in.readTag()) {
                // ICMP's type and code share the ports' numbers; they are kept, and never read as ports.
                if (p == varint(SOURCE_PORT)) {
                    memberPorts[2 * member] = in.readUInt32();
                } else if (p == varint(DESTINATION_PORT)) {
                    memberPorts[2 * member + 1] = in.readUInt32();
                } else {
                    skip(in, p);
                }
            }
            leave(in, inner);
            f.sourcePort = memberPorts[2 * member];
            f.destinationPort = memberPorts[2 * member + 1];
        }
        leave(in, limit);
    }

    private void readDns(CodedInputStream in, DnsFlowFields f) throws IOException {
        int limit = enter(in);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == delimited(Dns.QUERY_FIELD_NUMBER)) {
                f.query = string(in);
            } else if (t == delimited(Dns.QTYPES_FIELD_NUMBER)) {
                String qtype = string(in);
                if (f.firstQtype == null) {
                    f.firstQtype = qtype;
                }
            } else if (t == varint(Dns.RCODE_FIELD_NUMBER)) {
                f.rcode = in.readUInt32();
            } else if (t == varint(Dns.ID_FIELD_NUMBER)) {
                f.dnsId = in.readUInt32();
            } else if (t == varint(Dns.IS_RESPONSE_FIELD_NUMBER)) {
                f.isResponse = in.readBool();
            } else if (t == delimited(Dns.LATENCY_FIELD_NUMBER)) {
                f.hasLatency = true;
                int inner = enter(in);
                for (int d = in.readTag(); d != 0; d = in.readTag()) {
                    if (d == varint(SECONDS)) {
                        f.latencySeconds = in.readInt64();
                    } else if (d == varint(NANOS)) {
                        f.latencyNanos = in.readInt32();
                    } else {
                        skip(in, d);
                    }
                }
                leave(in, inner);
            } else if (t == varint(Dns.TRUNCATED_FIELD_NUMBER)) {
                f.truncated = in.readBool();
            } else if (t == varint(Dns.OVER_TCP_FIELD_NUMBER)) {
                f.overTcp = in.readBool();
            } else if (t == delimited(Dns.OBSERVATION_SOURCE_FIELD_NUMBER)) {
                f.observationSource = string(in);
            } else {
                skip(in, t);
            }
        }
        leave(in, limit);
    }

    /** An endpoint's namespace, pod and first workload's name, merged as protobuf merges a repeated message field. */
    private void readEndpoint(CodedInputStream in, DnsFlowFields.Side side) throws IOException {
        int limit = enter(in);
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            if (t == delimited(Endpoint.NAMESPACE_FIELD_NUMBER)) {
                side.namespace = string(in);
            } else if (t == delimited(Endpoint.POD_NAME_FIELD_NUMBER)) {
                side.podName = string(in);
            } else if (t == delimited(Endpoint.WORKLOADS_FIELD_NUMBER) && side.firstWorkload == null) {
                side.firstWorkload = "";
                int inner = enter(in);
                for (int w = in.readTag(); w != 0; w = in.readTag()) {
                    if (w == delimited(Workload.NAME_FIELD_NUMBER)) {
                        side.firstWorkload = string(in);
                    } else {
                        skip(in, w);
                    }
                }
                leave(in, inner);
            } else {
                skip(in, t); // labels, later workloads, identity, ids
            }
        }
        leave(in, limit);
    }

    private static int varint(int field) {
        return field << 3 | VARINT; // a tag: the field number, then the wire type in the low three bits
    }

    private static int delimited(int field) {
        return field << 3 | DELIMITED;
    }

    /** Into a length-delimited message; returns the limit to restore. */
    private static int enter(CodedInputStream in) throws IOException {
        int length = in.readRawVarint32();
        if (length < 0) {
            throw new InvalidProtocolBufferException("a message with a negative length");
        }
        return in.pushLimit(length);
    }

    /** Out of a message, which must have ended at its length (not at an end-group tag). */
    private static void leave(CodedInputStream in, int limit) throws InvalidProtocolBufferException {
        in.checkLastTagWas(0);
        in.popLimit(limit);
    }

    private static void skip(CodedInputStream in, int tag) throws IOException {
        if (!in.skipField(tag)) {
            // An end-group tag where none was opened: no message's bytes.
            throw new InvalidProtocolBufferException("an end-group tag outside any group");
        }
    }
}
