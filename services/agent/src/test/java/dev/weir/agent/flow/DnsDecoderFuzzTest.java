package dev.weir.agent.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import dev.weir.proto.flow.v1.Dns;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The agent decodes DNS payloads straight off the wire. Two properties: every valid message
 * (random names, types, rcodes, answers, TTLs, built and encoded by dnsjava) decodes to exactly
 * what it says; and whatever else arrives — a million random and mutated messages (bit flips,
 * truncations, insertions, compression pointers aimed at themselves or forward) — decodes to a
 * well-formed summary or is refused with MalformedDns (counted by the agent), never another
 * exception. Fixed seeds, so a failure can be replayed.
 */
class DnsDecoderFuzzTest {

    private static final int MESSAGES = 1_000_000;
    private static final int VALID = 20_000;
    private static final int[] RCODES = {Rcode.NOERROR, Rcode.FORMERR, Rcode.SERVFAIL, Rcode.NXDOMAIN, Rcode.REFUSED};

    @Test
    void validMessagesDecodeToExactlyWhatTheySay() throws Exception {
        Random random = new Random(20261201L);
        for (int i = 0; i < VALID; i++) {
            Name name = randomName(random);
            int qtype = random.nextBoolean() ? Type.A : Type.AAAA;
            Message message = Message.newQuery(Record.newRecord(name, qtype, DClass.IN));
            int id = random.nextInt(65536);
            message.getHeader().setID(id);
            boolean response = random.nextInt(3) > 0;
            boolean truncated = random.nextInt(10) == 0;
            if (truncated) {
                message.getHeader().setFlag(Flags.TC);
            }
            List<String> ips = new ArrayList<>();
            List<String> cnames = new ArrayList<>();
            long minTtl = Long.MAX_VALUE;
            int rcode = RCODES[random.nextInt(RCODES.length)];
            if (response) {
                message.getHeader().setFlag(Flags.QR);
                message.getHeader().setRcode(rcode);
                Name owner = name;
                int answers = rcode == Rcode.NOERROR ? random.nextInt(5) : 0;
                for (int a = 0; a < answers; a++) {
                    long ttl = random.nextInt(86_400);
                    minTtl = Math.min(minTtl, ttl);
                    if (a == 0 && random.nextBoolean()) {
                        Name target = randomName(random);
                        message.addRecord(new CNAMERecord(owner, DClass.IN, ttl, target), Section.ANSWER);
                        cnames.add(target.toString());
                        owner = target;
                    } else if (qtype == Type.A) {
                        InetAddress address = InetAddress.getByAddress(new byte[] {(byte) 198, (byte) (18 + random.nextInt(2)),
                                (byte) random.nextInt(256), (byte) random.nextInt(256)});
                        message.addRecord(new ARecord(owner, DClass.IN, ttl, address), Section.ANSWER);
                        ips.add(address.getHostAddress());
                    } else {
                        byte[] v6 = new byte[16];
                        random.nextBytes(v6);
                        InetAddress address = InetAddress.getByAddress(v6);
                        message.addRecord(new AAAARecord(owner, DClass.IN, ttl, address), Section.ANSWER);
                        ips.add(address.getHostAddress());
                    }
                }
            }
            boolean tcp = random.nextInt(8) == 0;
            byte[] wire = message.toWire();
            Dns dns = DnsDecoder.decode(tcp ? withLength(wire) : wire, tcp);
            String at = "message " + i + ": " + message;
            assertThat(dns.getId()).as(at).isEqualTo(id);
            assertThat(dns.getIsResponse()).as(at).isEqualTo(response);
            assertThat(dns.getTruncated()).as(at).isEqualTo(truncated);
            assertThat(dns.getOverTcp()).as(at).isEqualTo(tcp);
            assertThat(dns.getQuery()).as(at).isEqualTo(name.toString().toLowerCase(java.util.Locale.ROOT));
            assertThat(dns.getQtypesList()).as(at).containsExactly(Type.string(qtype));
            assertThat(dns.getRcode()).as(at).isEqualTo(response ? rcode : 0);
            assertThat(dns.getIpsList()).as(at).containsExactlyElementsOf(ips);
            assertThat(dns.getCnamesList()).as(at).containsExactlyElementsOf(cnames);
            assertThat((long) dns.getTtl()).as(at).isEqualTo(minTtl == Long.MAX_VALUE ? 0 : minTtl);
        }
    }

    @Test
    void aMillionRandomAndMutatedMessagesDecodeToWellFormedSummariesOrAreRefusedCleanly() throws Exception {
        Random random = new Random(20261126L);
        List<byte[]> seeds = seeds();
        int decoded = 0;
        for (int i = 0; i < MESSAGES; i++) {
            byte[] payload = i % 4 == 0 ? randomBytes(random) : mutate(seeds.get(random.nextInt(seeds.size())), random);
            boolean tcp = i % 16 == 0;
            Dns dns;
            try {
                dns = DnsDecoder.decode(tcp ? withLength(payload) : payload, tcp);
            } catch (DnsDecoder.MalformedDns refused) {
                continue;
            } catch (RuntimeException | StackOverflowError e) {
                throw new AssertionError("message " + i + " (" + payload.length + " bytes) crashed the decoder: "
                        + Arrays.toString(payload), e);
            }
            decoded++;
            // What a mutated message decodes to is still bounded by what the wire can carry.
            String at = "message " + i + ": " + Arrays.toString(payload);
            assertThat(dns.getId()).as(at).isBetween(0, 65535);
            assertThat(dns.getQuery().length()).as(at).isLessThanOrEqualTo(255 * 4); // escaped bytes: \DDD
            assertThat(dns.getIpsCount() + dns.getCnamesCount()).as(at).isLessThanOrEqualTo(payload.length / 11);
            dns.getIpsList().forEach(ip -> assertThat(com.google.common.net.InetAddresses.isInetAddress(ip)).as(at).isTrue());
            assertThat(dns.getTtl()).as(at).isGreaterThanOrEqualTo(0);
        }
        // The fuzzer reaches past the header into the sections: many mutations stay valid.
        assertThat(decoded).as("messages that decoded").isGreaterThan(MESSAGES / 10);
    }

    private static Name randomName(Random random) throws Exception {
        StringBuilder name = new StringBuilder();
        int labels = 1 + random.nextInt(5);
        for (int l = 0; l < labels; l++) {
            int length = 1 + random.nextInt(12);
            for (int c = 0; c < length; c++) {
                name.append("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".charAt(random.nextInt(63)));
            }
            name.append('.');
        }
        return Name.fromString(name.toString());
    }

    @Test
    void aCompressionPointerLoopIsRefused() throws Exception {
        byte[] query = new Message().toWire();
        byte[] looped = Arrays.copyOf(query, 12 + 6);
        looped[5] = 1; // one question
        looped[12] = (byte) 0xc0; // name: a pointer to offset 12, itself
        looped[13] = 12;
        assertThatThrownBy(() -> DnsDecoder.decode(looped, false)).isInstanceOf(DnsDecoder.MalformedDns.class);
    }

    @Test
    void aTruncatedAnswerIsRefusedAndATruncatedTcpSegmentToo() throws Exception {
        byte[] response = seeds().get(1);
        assertThatThrownBy(() -> DnsDecoder.decode(Arrays.copyOf(response, response.length - 3), false))
                .isInstanceOf(DnsDecoder.MalformedDns.class);
        assertThatThrownBy(() -> DnsDecoder.decode(new byte[] {0, 40, 1, 2}, true))
                .isInstanceOf(DnsDecoder.MalformedDns.class);
    }

    private static List<byte[]> seeds() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        Name name = Name.fromString("api.example.com.shop.svc.cluster.local.");
        seeds.add(Message.newQuery(Record.newRecord(name, Type.A, DClass.IN)).toWire());
        Message response = Message.newQuery(Record.newRecord(Name.fromString("api.example.com."), Type.A, DClass.IN));
        response.getHeader().setFlag(Flags.QR);
        response.addRecord(new CNAMERecord(Name.fromString("api.example.com."), DClass.IN, 30,
                Name.fromString("edge.example.net.")), Section.ANSWER);
        response.addRecord(new ARecord(Name.fromString("edge.example.net."), DClass.IN, 30,
                InetAddress.getByName("203.0.113.7")), Section.ANSWER);
        response.addRecord(new AAAARecord(Name.fromString("edge.example.net."), DClass.IN, 30,
                InetAddress.getByName("2001:db8::7")), Section.ANSWER);
        seeds.add(response.toWire());
        Message nx = Message.newQuery(Record.newRecord(name, Type.AAAA, DClass.IN));
        nx.getHeader().setFlag(Flags.QR);
        nx.getHeader().setRcode(Rcode.NXDOMAIN);
        seeds.add(nx.toWire());
        return seeds;
    }

    private static byte[] randomBytes(Random random) {
        // short ones break the header, long ones reach the sections
        byte[] bytes = new byte[random.nextInt(random.nextBoolean() ? 24 : 600)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] mutate(byte[] seed, Random random) {
        byte[] bytes = seed.clone();
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            switch (random.nextInt(5)) {
                case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                case 2 -> {
                    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(8));
                    for (int k = bytes.length; k < longer.length; k++) {
                        longer[k] = (byte) random.nextInt(256);
                    }
                    bytes = longer;
                }
                case 3 -> {
                    // a compression pointer somewhere in the message, aimed anywhere (itself included)
                    if (bytes.length > 13) {
                        int at = 12 + random.nextInt(bytes.length - 13);
                        int target = random.nextBoolean() ? at : random.nextInt(bytes.length);
                        bytes[at] = (byte) (0xc0 | (target >> 8 & 0x3f));
                        bytes[at + 1] = (byte) target;
                    }
                }
                default -> {
                    if (bytes.length > 0) {
                        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                    }
                }
            }
            if (bytes.length == 0) {
                break;
            }
        }
        return bytes;
    }

    private static byte[] withLength(byte[] payload) {
        byte[] framed = new byte[payload.length + 2];
        framed[0] = (byte) (payload.length >> 8);
        framed[1] = (byte) payload.length;
        System.arraycopy(payload, 0, framed, 2, payload.length);
        return framed;
    }
}
