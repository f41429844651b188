package dev.weir.agent.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
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
 * The agent decodes DNS payloads straight off the wire: whatever arrives, decoding yields a
 * message or MalformedDns (counted by the agent), never another exception. A million random and
 * mutated messages (bit flips, truncations, insertions, compression pointers aimed at themselves
 * or forward), with a fixed seed so a failure can be replayed.
 */
class DnsDecoderFuzzTest {

    private static final int MESSAGES = 1_000_000;

    @Test
    void aMillionRandomAndMutatedMessagesDecodeOrAreRefusedCleanly() throws Exception {
        Random random = new Random(20261126L);
        List<byte[]> seeds = seeds();
        int decoded = 0;
        int refused = 0;
        for (int i = 0; i < MESSAGES; i++) {
            byte[] payload = i % 4 == 0 ? randomBytes(random) : mutate(seeds.get(random.nextInt(seeds.size())), random);
            boolean tcp = i % 16 == 0;
            try {
                DnsDecoder.decode(tcp ? withLength(payload) : payload, tcp);
                decoded++;
            } catch (DnsDecoder.MalformedDns e) {
                refused++;
            } catch (RuntimeException | StackOverflowError e) {
                throw new AssertionError("message " + i + " (" + payload.length + " bytes) crashed the decoder: "
                        + Arrays.toString(payload), e);
            }
        }
        assertThat(decoded + refused).isEqualTo(MESSAGES);
        // Mutations keep many messages valid: the fuzzer reaches past the header into the sections.
        assertThat(decoded).isGreaterThan(MESSAGES / 10);
        assertThat(refused).isGreaterThan(MESSAGES / 10);
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
