package dev.weir.policy.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.net.InetAddresses;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cidr's own dotted-quad parser against Guava's literal parser (which never resolves a name),
 * and prefix containment against a bit-by-bit comparison.
 */
class CidrTest {

    private static final String ALPHABET = "0123456789.:/abcfx -+";

    /** The reference answer for an address literal, or null where it refuses one. */
    private static byte[] platform(String host) {
        if (!host.matches("[0-9a-fA-F:.]+") || !InetAddresses.isInetAddress(host)) {
            return null;
        }
        return InetAddresses.forString(host).getAddress();
    }

    /** Decimal shorthand with fewer than four parts, which Cidr takes as the platform's parser did (below). */
    private static boolean shorthand(String host) {
        return host.matches("[0-9]+(\\.[0-9]+){0,2}");
    }

    @Test
    void canonicalQuadsParseAsThePlatformParsesThem() {
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            String ip = random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256);
            assertArrayEquals(platform(ip), Cidr.host(ip).address(), ip);
            assertEquals(32, Cidr.host(ip).length());
        }
    }

    @Test
    void anyOtherTextIsJudgedAsThePlatformJudgesIt() {
        Random random = new Random(11);
        String[] seeds = {"198.18.0.1", "10.0.0.01", "1.2.3", "256.1.1.1", "1..2.3", "1.2.3.4.", ".1.2.3", "::1",
                "fd00::10", "::ffff:198.18.0.1", "0.0.0.0", "1.2.3.4/32", ""};
        for (int i = 0; i < 50_000; i++) {
            StringBuilder text = new StringBuilder(seeds[random.nextInt(seeds.length)]);
            for (int m = random.nextInt(3); m > 0; m--) {
                int at = text.length() == 0 ? 0 : random.nextInt(text.length() + 1);
                char c = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
                if (random.nextBoolean() && at < text.length()) {
                    text.setCharAt(at, c);
                } else {
                    text.insert(at, c);
                }
            }
            String host = text.toString();
            if (shorthand(host)) {
                continue;
            }
            byte[] expected = platform(host);
            if (expected == null) {
                assertThrows(IllegalArgumentException.class, () -> Cidr.parse(host + "/0"), host);
            } else {
                assertArrayEquals(new byte[expected.length], Cidr.parse(host + "/0").address(), host);
                assertArrayEquals(expected, Cidr.parse(host + "/" + expected.length * 8).address(), host);
            }
        }
    }

    @Test
    void theOlderDecimalShorthandReadsAsThePlatformReadItSoStoredPoliciesStillParse() {
        assertEquals(Cidr.parse("192.168.0.0/24"), Cidr.parse("192.168.1/24"));
        assertEquals(Cidr.host("192.168.0.1"), Cidr.parse("192.168.1/32"));
        assertEquals(Cidr.host("10.0.0.1"), Cidr.parse("10.1/32"));
        assertEquals(Cidr.host("10.0.0.1"), Cidr.parse("167772161/32"));
        assertEquals(Cidr.host("10.1.255.255"), Cidr.parse("10.1.65535/32"));
        for (String refused : new String[] {"10.1.65536/32", "256.1/32", "10.016777216/32", "4294967296/32", "01.2/8",
            "1..2/8", "1.2./8"}) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(refused), refused);
        }
    }

    @Test
    void namesAreRefusedNotLookedUp() {
        for (String name : new String[] {"abc/8", "fd00/16", "cafe/32", "010.0.0.1/32", "1.2.3.4./32", "1.2.3.4.5/32"}) {
            assertThrows(IllegalArgumentException.class, () -> Cidr.parse(name), name);
        }
    }

    @Test
    void prefixLengthsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/-1"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/x"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/+8"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/\u0663\u0662"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0/0032"));
        assertThrows(IllegalArgumentException.class, () -> Cidr.parse("198.18.0.0"));
        assertEquals(Cidr.parse("198.18.0.0/15"), Cidr.parse("198.19.255.255/15"));
    }

    @Test
    void containmentMatchesABitByBitComparison() {
        Random random = new Random(3);
        for (int i = 0; i < 50_000; i++) {
            byte[] a = new byte[4];
            random.nextBytes(a);
            byte[] b = a.clone();
            b[random.nextInt(4)] ^= (byte) (1 << random.nextInt(8));
            Cidr outer = new Cidr(a, random.nextInt(33));
            Cidr inner = new Cidr(random.nextBoolean() ? a : b, random.nextInt(33));
            boolean expected = inner.length() >= outer.length();
            for (int bit = 0; expected && bit < outer.length(); bit++) {
                int mask = 0x80 >> (bit % 8);
                expected = (outer.address()[bit / 8] & mask) == (inner.address()[bit / 8] & mask);
            }
            assertEquals(expected, outer.contains(inner), outer + " ⊇ " + inner);
        }
        assertTrue(Cidr.parse("::/0").contains(Cidr.host("fd00::1")));
        assertFalse(Cidr.parse("0.0.0.0/0").contains(Cidr.host("fd00::1")));
    }
}
