package dev.weir.agent.flow;

import dev.weir.proto.flow.v1.Dns;
import java.io.IOException;
import java.util.Arrays;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Reads the DNS message a datapath event captured (up to 512 bytes of the UDP payload, or of the
 * TCP segment, whose message starts after a two-byte length) with dnsjava. A payload that is not
 * a DNS message, or was cut short, is reported as such, never thrown out of the flow path.
 */
public final class DnsDecoder {

    private DnsDecoder() {
    }

    /** Why a payload could not be read. */
    public static final class MalformedDns extends Exception {
        public MalformedDns(String message) {
            super(message);
        }
    }

    public static Dns decode(byte[] payload, boolean overTcp) throws MalformedDns {
        byte[] wire = payload;
        if (overTcp) {
            if (payload.length < 2 + 12) {
                throw new MalformedDns("TCP DNS segment of " + payload.length + " bytes");
            }
            wire = Arrays.copyOfRange(payload, 2, payload.length);
        }
        Message message;
        try {
            message = new Message(wire);
        } catch (IOException | RuntimeException e) {
            throw new MalformedDns("not a DNS message (" + wire.length + " bytes): " + e.getMessage());
        }
        Dns.Builder dns = Dns.newBuilder()
                .setId(message.getHeader().getID())
                .setIsResponse(message.getHeader().getFlag(Flags.QR))
                .setTruncated(message.getHeader().getFlag(Flags.TC))
                .setOverTcp(overTcp);
        Record question = message.getQuestion();
        if (question != null) {
            dns.setQuery(question.getName().toString().toLowerCase(java.util.Locale.ROOT));
            dns.addQtypes(Type.string(question.getType()));
        }
        if (dns.getIsResponse()) {
            dns.setRcode(message.getRcode());
            long minTtl = Long.MAX_VALUE;
            for (Record answer : message.getSection(Section.ANSWER)) {
                minTtl = Math.min(minTtl, answer.getTTL());
                String type = Type.string(answer.getType());
                if (!dns.getRrtypesList().contains(type)) {
                    dns.addRrtypes(type);
                }
                if (answer instanceof ARecord a) {
                    dns.addIps(a.getAddress().getHostAddress());
                } else if (answer instanceof AAAARecord aaaa) {
                    dns.addIps(aaaa.getAddress().getHostAddress());
                } else if (answer instanceof CNAMERecord cname) {
                    dns.addCnames(cname.getTarget().toString());
                }
            }
            if (minTtl != Long.MAX_VALUE) {
                dns.setTtl((int) Math.min(minTtl, Integer.MAX_VALUE));
            }
        }
        return dns.build();
    }

    /** A response code by its name (RFC 1035, 2136, 6895), RCODE<n> for one without. */
    public static String rcodeName(int rcode) {
        return switch (rcode) {
            case 0 -> "NOERROR";
            case 1 -> "FORMERR";
            case 2 -> "SERVFAIL";
            case 3 -> "NXDOMAIN";
            case 4 -> "NOTIMP";
            case 5 -> "REFUSED";
            case 6 -> "YXDOMAIN";
            case 7 -> "YXRRSET";
            case 8 -> "NXRRSET";
            case 9 -> "NOTAUTH";
            case 10 -> "NOTZONE";
            default -> "RCODE" + rcode;
        };
    }
}
