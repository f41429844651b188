package dev.weir.dns.analytics;

import com.google.protobuf.util.Timestamps;
import com.google.protobuf.Timestamp;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.List;

/** Building insights: ids that stay stable while a finding lasts, timestamps, bounded evidence. */
final class Insights {

    private Insights() {
    }

    static Timestamp time(long ms) {
        return Timestamps.fromMillis(ms);
    }

    static long ms(Timestamp t) {
        return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
    }

    /** A new or updated finding about a subject ("namespace/pod", a client address, or "node/<name>"). */
    static DnsInsight.Builder finding(String subject, InsightKind kind, long sinceMs, long nowMs) {
        return DnsInsight.newBuilder().setId(subject + "/" + kind.name() + "/" + sinceMs).setKind(kind)
                .setTime(time(nowMs)).setWindowStart(time(sinceMs)).setWindowEnd(time(nowMs));
    }

    static DnsInsight resolved(DnsInsight active, long nowMs) {
        return active.toBuilder().setResolved(true).setTime(time(nowMs)).setWindowEnd(time(nowMs)).build();
    }

    static List<String> bounded(List<String> evidence) {
        return evidence.size() <= DnsSettings.MAX_EVIDENCE ? evidence
                : evidence.subList(evidence.size() - DnsSettings.MAX_EVIDENCE, evidence.size());
    }
}
