package dev.weir.dns.analytics;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import java.io.IOException;

/**
 * Reads from a flow's bytes only the fields {@link DnsEvents} looks at, and skips the rest
 * unparsed: labels, names, summaries, Ethernet and the policies that allowed a flow are most of a
 * flow's bytes and most of the cost of decoding one, and the DNS analytics read none of them.
 *
 * <p>The fields read are read with protobuf's own semantics (a message field that occurs twice
 * is merged, a scalar's last occurrence wins), so for any bytes {@link Flow#parseFrom} accepts,
 * {@code DnsEvents.of(read(bytes))} equals {@code DnsEvents.of(Flow.parseFrom(bytes))}. What is
 * not read is not validated either: a flow whose skipped label is not UTF-8 still counts as DNS,
 * while anything wrong in the fields read is refused as {@link Flow#parseFrom} refuses it.
 */
final class DnsFlowReader {

    private static final ExtensionRegistryLite NO_EXTENSIONS = ExtensionRegistryLite.getEmptyRegistry();

    private DnsFlowReader() {
    }

    /** The flow, with only the fields the DNS analytics read. */
    static Flow read(byte[] bytes) throws InvalidProtocolBufferException {
        CodedInputStream input = CodedInputStream.newInstance(bytes);
        Flow.Builder flow = Flow.newBuilder();
        try {
            readFlow(input, flow);
            input.checkLastTagWas(0);
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        return flow.buildPartial();
    }

    private static void readFlow(CodedInputStream input, Flow.Builder flow) throws IOException {
        while (true) {
            int tag = input.readTag();
            if (tag == 0) {
                return;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            if (WireFormat.getTagWireType(tag) != wireType(field)) {
                skip(input, tag);
                continue;
            }
            switch (field) {
                case Flow.TIME_FIELD_NUMBER -> input.readMessage(flow.getTimeBuilder(), NO_EXTENSIONS);
                case Flow.NODE_NAME_FIELD_NUMBER -> flow.setNodeName(input.readStringRequireUtf8());
                case Flow.VERDICT_FIELD_NUMBER -> flow.setVerdictValue(input.readEnum());
                case Flow.DROP_REASON_FIELD_NUMBER -> flow.setDropReasonValue(input.readEnum());
                case Flow.IP_FIELD_NUMBER -> input.readMessage(flow.getIpBuilder(), NO_EXTENSIONS);
                case Flow.L4_FIELD_NUMBER -> input.readMessage(flow.getL4Builder(), NO_EXTENSIONS);
                case Flow.DNS_FIELD_NUMBER -> input.readMessage(flow.getDnsBuilder(), NO_EXTENSIONS);
                case Flow.SOURCE_FIELD_NUMBER -> readEndpoint(input, flow.getSourceBuilder());
                case Flow.DESTINATION_FIELD_NUMBER -> readEndpoint(input, flow.getDestinationBuilder());
                case Flow.EGRESS_DENIED_BY_FIELD_NUMBER -> input.readMessage(flow.addEgressDeniedByBuilder(), NO_EXTENSIONS);
                case Flow.INGRESS_DENIED_BY_FIELD_NUMBER -> input.readMessage(flow.addIngressDeniedByBuilder(), NO_EXTENSIONS);
                default -> skip(input, tag);
            }
        }
    }

    /** The wire type of a field read here; -1 for one skipped. */
    private static int wireType(int field) {
        return switch (field) {
            case Flow.VERDICT_FIELD_NUMBER, Flow.DROP_REASON_FIELD_NUMBER -> WireFormat.WIRETYPE_VARINT;
            case Flow.TIME_FIELD_NUMBER, Flow.NODE_NAME_FIELD_NUMBER, Flow.IP_FIELD_NUMBER, Flow.L4_FIELD_NUMBER,
                    Flow.DNS_FIELD_NUMBER, Flow.SOURCE_FIELD_NUMBER, Flow.DESTINATION_FIELD_NUMBER,
                    Flow.EGRESS_DENIED_BY_FIELD_NUMBER, Flow.INGRESS_DENIED_BY_FIELD_NUMBER ->
                    WireFormat.WIRETYPE_LENGTH_DELIMITED;
            default -> -1;
        };
    }

    /** An endpoint's namespace, pod and workloads, merged into the builder as protobuf merges a repeated message field. */
    private static void readEndpoint(CodedInputStream input, Endpoint.Builder endpoint) throws IOException {
        int length = input.readRawVarint32();
        if (length < 0) {
            throw new InvalidProtocolBufferException("an endpoint with a negative length");
        }
        int limit = input.pushLimit(length);
        while (true) {
            int tag = input.readTag();
            if (tag == 0) {
                break;
            }
            int field = WireFormat.getTagFieldNumber(tag);
            boolean delimited = WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            if (delimited && field == Endpoint.NAMESPACE_FIELD_NUMBER) {
                endpoint.setNamespace(input.readStringRequireUtf8());
            } else if (delimited && field == Endpoint.POD_NAME_FIELD_NUMBER) {
                endpoint.setPodName(input.readStringRequireUtf8());
            } else if (delimited && field == Endpoint.WORKLOADS_FIELD_NUMBER) {
                input.readMessage(endpoint.addWorkloadsBuilder(), NO_EXTENSIONS);
            } else {
                skip(input, tag);
            }
        }
        input.checkLastTagWas(0);
        input.popLimit(limit);
    }

    private static void skip(CodedInputStream input, int tag) throws IOException {
        if (WireFormat.getTagFieldNumber(tag) == 0 || !input.skipField(tag)) {
            // An end-group tag where none was opened, or a field number of zero: no message's bytes.
            throw new InvalidProtocolBufferException("an invalid tag");
        }
    }
}
