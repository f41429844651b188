package dev.weir.dns.analytics;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Arrays;

/**
 * The short strings of recent flows, by their UTF-8 bytes: a cluster's flows repeat the same
 * nodes, namespaces, pods, addresses and names over and over, so most strings are found here
 * instead of being decoded, allocated and hashed again for every flow (and the analytics' maps
 * find them faster: their hash is already computed). A fixed table, one entry per slot, the
 * newest string winning a slot: its size does not depend on what the flows contain.
 */
final class RecentStrings {

    private static final int SLOTS = 4096;
    /** Longer strings are decoded every time: rare, and not worth a slot. */
    private static final int MAX_LENGTH = 64;

    private final byte[][] keys = new byte[SLOTS][];
    private final String[] values = new String[SLOTS];

    /** The UTF-8 string of {@code bytes[offset, offset + length)}; refused as protobuf refuses invalid UTF-8. */
    String get(byte[] bytes, int offset, int length) throws InvalidProtocolBufferException {
        if (length > MAX_LENGTH) {
            return decode(bytes, offset, length);
        }
        int hash = 1;
        for (int i = offset; i < offset + length; i++) {
            hash = 31 * hash + bytes[i];
        }
        int slot = (hash ^ hash >>> 16) & (SLOTS - 1);
        byte[] key = keys[slot];
        if (key != null && Arrays.equals(key, 0, key.length, bytes, offset, offset + length)) {
            return values[slot];
        }
        String value = decode(bytes, offset, length);
        keys[slot] = Arrays.copyOfRange(bytes, offset, offset + length);
        values[slot] = value;
        return value;
    }

    private static String decode(byte[] bytes, int offset, int length) throws InvalidProtocolBufferException {
        ByteString utf8 = ByteString.copyFrom(bytes, offset, length);
        if (!utf8.isValidUtf8()) { // protobuf's own check: what Flow.parseFrom refuses is refused
            throw new InvalidProtocolBufferException("Protocol message had invalid UTF-8.");
        }
        return utf8.toStringUtf8();
    }
}
