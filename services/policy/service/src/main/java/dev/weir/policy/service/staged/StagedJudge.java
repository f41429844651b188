package dev.weir.policy.service.staged;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Compilation;
import dev.weir.policy.model.Policy;
import dev.weir.policy.model.Protocol;
import dev.weir.policy.model.Verdicts;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Judges live connections as each staged policy would: with the policies in force and the staged
 * one in place of its enforced namesake (or beside them), compiled by the compiler the datapath's
 * maps come from and decided by its verdict model. A connection the datapath let through (its
 * first packet forwarded, or audited) that a staged policy's compilation drops is one that policy
 * would drop, when the policies in force allow it (one dropped today, at the other end say, is
 * no staged policy's doing). Each connection counts once: at the sender's egress, or at the
 * receiver when the sender is no pod of the cluster.
 */
public final class StagedJudge {

    /** One staged policy, compiled. */
    private record Candidate(StagedPolicyStore.Staged staged, long id, String key, long stagedAtMillis, Compilation compiled) {
    }

    /** A first packet to judge: who, to whom, on what. */
    public record Connection(Cluster.Pod source, String sourceIp, Cluster.Pod destination, String destinationIp, int port,
            Protocol protocol, long timeMillis) {
        String sourceName() {
            return source == null ? sourceIp : source.key();
        }

        String destinationName() {
            return destination == null ? destinationIp : destination.key();
        }
    }

    /**
     * What a connection pattern's verdicts are under each candidate (bit i: candidate i drops
     * it): the compilations do not change during a judge's life, and connections repeat their
     * patterns (source, destination, port) far more often than they make new ones. Bounded:
     * cleared when full, so spoofed patterns cost time, never memory.
     */
    private record PatternKey(String sourceIp, String destinationIp, int port, Protocol protocol) {
    }

    static final int MAX_CACHED = 100_000;
    private final Map<PatternKey, Long> verdicts = new HashMap<>();
    private final Cluster cluster;
    private final List<Candidate> candidates = new ArrayList<>();
    private final Map<String, Cluster.Pod> podsByIp = new HashMap<>();
    /** The policies in force, compiled: what a staged policy would drop is what they allow and it does not. */
    private final Compilation enforced;
    private final Map<Long, String> failures = new LinkedHashMap<>();

    /**
     * @throws RuntimeException when the policies in force do not compile (nothing can be judged);
     *     a staged policy that does not compile, or one beyond the first 64, is left out and named
     *     in {@link #failures()}
     */
    public StagedJudge(Cluster cluster, List<Policy> inForce, List<StagedPolicyStore.Staged> staged,
            BiFunction<Cluster, List<Policy>, Compilation> compile) {
        this.cluster = cluster;
        cluster.pods().forEach(p -> podsByIp.put(p.ip(), p));
        this.enforced = compile.apply(cluster, inForce);
        for (StagedPolicyStore.Staged s : staged) {
            if (candidates.size() == Long.SIZE) {
                failures.put(s.id(), "more than " + Long.SIZE + " staged policies: not judged");
                continue;
            }
            try {
                Policy policy = s.policy();
                List<Policy> combined = new ArrayList<>(inForce.stream().filter(p -> !p.key().equals(policy.key())).toList());
                combined.add(policy);
                candidates.add(new Candidate(s, s.id(), s.key(), s.stagedAt().toEpochMilli(), compile.apply(cluster, combined)));
            } catch (RuntimeException e) {
                failures.put(s.id(), "not judged: it does not compile (" + e.getMessage() + ")");
            }
        }
    }

    /** The staged policies left out, by id, with the reason. */
    public Map<Long, String> failures() {
        return Map.copyOf(failures);
    }

    public boolean idle() {
        return candidates.isEmpty();
    }

    /** The connection a flow opens, when it is one to judge; null for every other flow. */
    public Connection connection(Flow flow) {
        if (flow.getIsReply() || flow.getEventType() != EventType.NEW_CONNECTION
                || (flow.getVerdict() != Verdict.FORWARDED && flow.getVerdict() != Verdict.AUDIT)) {
            return null;
        }
        int port = dev.weir.common.flow.FlowFilters.destinationPort(flow);
        if (port <= 0) {
            return null;
        }
        Protocol protocol = Protocol.valueOf(dev.weir.common.flow.FlowFilters.protocol(flow).toUpperCase(java.util.Locale.ROOT));
        Cluster.Pod source = podsByIp.get(flow.getIp().getSource());
        Cluster.Pod destination = podsByIp.get(flow.getIp().getDestination());
        boolean counts = flow.getTracePoint() == TracePoint.FROM_ENDPOINT
                || (flow.getTracePoint() == TracePoint.TO_ENDPOINT && source == null);
        if (!counts || (source == null && destination == null)) {
            return null;
        }
        long at = flow.getTime().getSeconds() * 1000 + flow.getTime().getNanos() / 1_000_000;
        return new Connection(source, flow.getIp().getSource(), destination, flow.getIp().getDestination(), port, protocol, at);
    }

    /**
     * Adds the connection's judgement by every staged policy to the tallies (by staged id): by
     * those staged when its record was written, so that each counts from its staging on.
     *
     * @return the staged policies that would drop it
     */
    public List<StagedPolicyStore.Staged> judge(Connection c, long recordedMillis, Map<Long, StagedPolicyStore.Tally> tallies) {
        List<StagedPolicyStore.Staged> droppedBy = List.of();
        long drops = drops(c);
        for (int i = 0; i < candidates.size(); i++) {
            Candidate candidate = candidates.get(i);
            if (recordedMillis < candidate.stagedAtMillis()) {
                continue;
            }
            StagedPolicyStore.Tally tally = tallies.computeIfAbsent(candidate.id(),
                    k -> new StagedPolicyStore.Tally(new long[1], new LinkedHashMap<>()));
            tally.judged()[0]++;
            if ((drops & (1L << i)) != 0) {
                long[] v = tally.drops().computeIfAbsent(new StagedPolicyStore.Pattern(c.sourceName(), c.destinationName(),
                        c.port(), c.protocol().name()), k -> new long[] {0, Long.MAX_VALUE, Long.MIN_VALUE});
                v[0]++;
                v[1] = Math.min(v[1], c.timeMillis());
                v[2] = Math.max(v[2], c.timeMillis());
                if (droppedBy.isEmpty()) {
                    droppedBy = new ArrayList<>(2);
                }
                droppedBy.add(candidate.staged());
            }
        }
        return droppedBy;
    }

    /** Bit i set: candidate i drops the connection's pattern. */
    private long drops(Connection c) {
        PatternKey key = new PatternKey(c.sourceIp(), c.destinationIp(), c.port(), c.protocol());
        Long cached = verdicts.get(key);
        if (cached != null) {
            return cached;
        }
        long drops = 0;
        // Dropped today already (at the receiver, say): no staged policy's doing.
        boolean allowedToday = Verdicts.decide(enforced, cluster, c.source(), c.sourceIp(), c.destination(),
                c.destinationIp(), c.port(), c.protocol()).allowed();
        for (int i = 0; allowedToday && i < candidates.size(); i++) {
            boolean allowed = Verdicts.decide(candidates.get(i).compiled(), cluster, c.source(), c.sourceIp(), c.destination(),
                    c.destinationIp(), c.port(), c.protocol()).allowed();
            if (!allowed) {
                drops |= 1L << i;
            }
        }
        if (verdicts.size() >= MAX_CACHED) {
            verdicts.clear();
        }
        verdicts.put(key, drops);
        return drops;
    }

    /** When the earliest staged policy was staged: no record before it needs reading. */
    public long earliestStagedMillis() {
        return candidates.stream().mapToLong(Candidate::stagedAtMillis).min().orElse(Long.MAX_VALUE);
    }

    /** The staged policies' keys by id, for metrics and logs. */
    public Map<Long, String> keys() {
        Map<Long, String> keys = new LinkedHashMap<>();
        candidates.forEach(c -> keys.put(c.id(), c.key()));
        return keys;
    }
}
