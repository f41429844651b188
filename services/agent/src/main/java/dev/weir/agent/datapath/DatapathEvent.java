package dev.weir.agent.datapath;

import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * One ring-buffer record (struct weir_flow_event), decoded. Ports are in host order; for ICMP,
 * sport carries the type and dport the code. payload holds the captured L4 payload of DNS events.
 */
public record DatapathEvent(
        int type,
        int cpu,
        long timestampNs,
        int ifindex,
        int endpointId,
        int srcIdentity,
        int dstIdentity,
        InetAddress source,
        InetAddress destination,
        int sport,
        int dport,
        int family,
        int protocol,
        int verdict,
        int dropReason,
        int direction,
        int matchType,
        int tcpFlags,
        boolean reply,
        int tracePoint,
        int policyCookie,
        int packetLength,
        byte[] payload) {

    /** A record this agent cannot decode: counted and skipped, never a crash. */
    public static final class UndecodableEvent extends Exception {
        public UndecodableEvent(String message) {
            super(message);
        }
    }

    private static final MapLayout.Struct E = MapLayout.FLOW_EVENT;

    /**
     * Decodes the record at [offset, offset + length) of the buffer.
     *
     * @throws UndecodableEvent for a version this agent does not know or a record that is too short
     */
    public static DatapathEvent decode(ByteBuffer buf, int offset, int length) throws UndecodableEvent {
        if (length < MapLayout.EVENT_HEADER.size()) {
            throw new UndecodableEvent("record of " + length + " bytes has no header");
        }
        int version = Byte.toUnsignedInt(buf.get(offset + MapLayout.EVENT_HEADER.offset("version")));
        if (version != MapLayout.EVENT_VERSION) {
            throw new UndecodableEvent("event version " + version + " is not " + MapLayout.EVENT_VERSION);
        }
        if (length < E.size()) {
            throw new UndecodableEvent("record of " + length + " bytes is shorter than a flow event (" + E.size() + ")");
        }
        int family = Byte.toUnsignedInt(buf.get(offset + E.offset("family")));
        if (family != MapLayout.FAMILY_IPV4 && family != MapLayout.FAMILY_IPV6 && family != 0) {
            throw new UndecodableEvent("address family " + family);
        }
        int payloadLength = Short.toUnsignedInt(buf.getShort(offset + E.offset("payload_length")));
        int recordLength = Short.toUnsignedInt(buf.getShort(offset + MapLayout.EVENT_HEADER.offset("length")));
        if (payloadLength > length - E.size() || recordLength > length) {
            throw new UndecodableEvent("payload of " + payloadLength + " bytes overruns a " + length + "-byte record");
        }
        byte[] payload = new byte[payloadLength];
        buf.get(offset + E.size(), payload);
        return new DatapathEvent(
                Byte.toUnsignedInt(buf.get(offset + MapLayout.EVENT_HEADER.offset("type"))),
                buf.getInt(offset + MapLayout.EVENT_HEADER.offset("cpu")),
                buf.getLong(offset + E.offset("timestamp_ns")),
                buf.getInt(offset + E.offset("ifindex")),
                buf.getInt(offset + E.offset("endpoint_id")),
                buf.getInt(offset + E.offset("src_identity")),
                buf.getInt(offset + E.offset("dst_identity")),
                family == 0 ? null : address(buf, offset + E.offset("saddr"), family),
                family == 0 ? null : address(buf, offset + E.offset("daddr"), family),
                Short.toUnsignedInt(buf.getShort(offset + E.offset("sport"))),
                Short.toUnsignedInt(buf.getShort(offset + E.offset("dport"))),
                family,
                Byte.toUnsignedInt(buf.get(offset + E.offset("protocol"))),
                Byte.toUnsignedInt(buf.get(offset + E.offset("verdict"))),
                Byte.toUnsignedInt(buf.get(offset + E.offset("drop_reason"))),
                Byte.toUnsignedInt(buf.get(offset + E.offset("direction"))),
                Byte.toUnsignedInt(buf.get(offset + E.offset("match_type"))),
                Byte.toUnsignedInt(buf.get(offset + E.offset("tcp_flags"))),
                buf.get(offset + E.offset("is_reply")) != 0,
                Byte.toUnsignedInt(buf.get(offset + E.offset("trace_point"))),
                buf.getInt(offset + E.offset("policy_cookie")),
                buf.getInt(offset + E.offset("packet_length")),
                payload);
    }

    private static InetAddress address(ByteBuffer buf, int at, int family) {
        byte[] bytes = new byte[16];
        buf.get(at, bytes);
        return Datapath.address(bytes, family);
    }
}
