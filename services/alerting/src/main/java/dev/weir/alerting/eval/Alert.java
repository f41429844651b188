package dev.weir.alerting.eval;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alert: one group of one rule whose condition holds (or held). Its fingerprint is a hash of
 * its labels, the same for the same labels on every evaluation and every restart.
 */
public record Alert(String fingerprint, String rule, Map<String, String> labels, Map<String, String> annotations,
        Status status, long startsAtMs, long endsAtMs, double value) {

    public enum Status { PENDING, FIRING, RESOLVED }

    /** FNV-1a (64 bit) over the sorted label pairs, as Prometheus' label signatures. */
    public static String fingerprint(Map<String, String> labels) {
        long hash = 0xcbf29ce484222325L;
        for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
            for (byte b : (e.getKey() + '\u00ff' + e.getValue() + '\u00ff').getBytes(StandardCharsets.UTF_8)) {
                hash ^= b & 0xff;
                hash *= 0x100000001b3L;
            }
        }
        return String.format("%016x", hash);
    }
}
