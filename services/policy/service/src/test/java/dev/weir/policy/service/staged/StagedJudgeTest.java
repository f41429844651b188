package dev.weir.policy.service.staged;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.policy.model.Cluster;
import dev.weir.policy.model.Identity;
import dev.weir.policy.model.PolicyCompiler;
import dev.weir.policy.model.PolicyParser;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.Verdict;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StagedJudgeTest {

    private static final Instant STAGED = Instant.parse("2026-12-02T02:00:00Z");
    private static final String ONLY_Z = """
            {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"only-z","namespace":"y"},
             "spec":{"podSelector":{"matchLabels":{"app":"b"}},
                     "ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"z"}}}]}]}}
            """;

    private static Cluster cluster() {
        return new Cluster()
                .pod(new Cluster.Pod("x", "a", Map.of("app", "a"), "198.18.5.1", List.of(), "n1", 1))
                .pod(new Cluster.Pod("z", "c", Map.of("app", "c"), "198.18.5.3", List.of(), "n1", 3))
                .pod(new Cluster.Pod("y", "b", Map.of("app", "b"), "198.18.5.2", List.of(), "n1", 2));
    }

    private static StagedJudge judge() {
        Identity.Allocator allocator = new Identity.LocalAllocator();
        StagedPolicyStore.Staged staged = new StagedPolicyStore.Staged(7, "NetworkPolicy", "y", "only-z", ONLY_Z, "ops",
                STAGED, 0, 0);
        return new StagedJudge(cluster(), List.of(), List.of(staged), (c, p) -> PolicyCompiler.compile(c, p, allocator));
    }

    private static Flow flow(String from, String to, TracePoint point, boolean reply, Verdict verdict) {
        return Flow.newBuilder().setVerdict(verdict).setEventType(EventType.NEW_CONNECTION).setTracePoint(point)
                .setIsReply(reply).setIp(dev.weir.proto.flow.v1.IP.newBuilder().setSource(from).setDestination(to))
                .setL4(Layer4.newBuilder().setTcp(dev.weir.proto.flow.v1.TCP.newBuilder().setDestinationPort(8080)))
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(STAGED.getEpochSecond() + 5)).build();
    }

    @Test
    void eachConnectionCountsOnceFromTheStagingOnAndOnlyWhatTheStagedPolicyDrops() {
        StagedJudge judge = judge();
        Map<Long, StagedPolicyStore.Tally> tallies = new HashMap<>();
        long after = STAGED.toEpochMilli() + 5_000;
        List<Flow> flows = List.of(
                flow("198.18.5.1", "198.18.5.2", TracePoint.FROM_ENDPOINT, false, Verdict.FORWARDED), // x/a -> y/b: would drop
                flow("198.18.5.1", "198.18.5.2", TracePoint.TO_ENDPOINT, false, Verdict.FORWARDED), // its other sighting
                flow("198.18.5.2", "198.18.5.1", TracePoint.FROM_ENDPOINT, true, Verdict.FORWARDED), // a reply
                flow("198.18.5.3", "198.18.5.2", TracePoint.FROM_ENDPOINT, false, Verdict.FORWARDED), // z/c: allowed
                flow("198.19.9.9", "198.18.5.2", TracePoint.TO_ENDPOINT, false, Verdict.FORWARDED), // outside: would drop
                flow("198.18.5.1", "198.18.5.2", TracePoint.FROM_ENDPOINT, false, Verdict.DROPPED)); // dropped today
        for (Flow f : flows) {
            StagedJudge.Connection c = judge.connection(f);
            if (c != null) {
                judge.judge(c, after, tallies);
            }
        }
        // Written before the staging: not this staged policy's business.
        judge.judge(judge.connection(flows.get(0)), STAGED.toEpochMilli() - 1, tallies);

        StagedPolicyStore.Tally tally = tallies.get(7L);
        assertThat(tally.judged()[0]).isEqualTo(3);
        assertThat(tally.drops()).containsOnlyKeys(new StagedPolicyStore.Pattern("x/a", "y/b", 8080, "TCP"),
                new StagedPolicyStore.Pattern("198.19.9.9", "y/b", 8080, "TCP"));
        assertThat(tally.drops().get(new StagedPolicyStore.Pattern("x/a", "y/b", 8080, "TCP"))[0]).isEqualTo(1);
    }

    @Test
    void aStagedPolicyReplacesItsEnforcedNamesakeAndWhatIsDroppedTodayIsNotItsDoing() {
        Identity.Allocator allocator = new Identity.LocalAllocator();
        // In force under the same key: only x may reach b. Staged: only z.
        var inForce = PolicyParser.parse(ONLY_Z.replace("\"kubernetes.io/metadata.name\":\"z\"", "\"kubernetes.io/metadata.name\":\"x\""));
        StagedPolicyStore.Staged staged = new StagedPolicyStore.Staged(7, "NetworkPolicy", "y", "only-z", ONLY_Z, "ops",
                STAGED, 0, 0);
        StagedPolicyStore.Staged broken = new StagedPolicyStore.Staged(8, "NetworkPolicy", "y", "broken",
                ONLY_Z.replace("\"ingress\"", "\"ingres\""), "ops", STAGED, 0, 0);
        StagedJudge judge = new StagedJudge(cluster(), inForce, List.of(staged, broken),
                (c, p) -> PolicyCompiler.compile(c, p, allocator));
        Map<Long, StagedPolicyStore.Tally> tallies = new HashMap<>();
        long after = STAGED.toEpochMilli();
        // x/a -> b: allowed today, dropped by the staged namesake (were both in force, x would still be allowed).
        judge.judge(judge.connection(flow("198.18.5.1", "198.18.5.2", TracePoint.FROM_ENDPOINT, false, Verdict.FORWARDED)),
                after, tallies);
        // z/c -> b: dropped today at b's ingress (its sender's egress let it out): not the staged policy's doing.
        judge.judge(judge.connection(flow("198.18.5.3", "198.18.5.2", TracePoint.FROM_ENDPOINT, false, Verdict.AUDIT)),
                after, tallies);
        assertThat(tallies.get(7L).judged()[0]).isEqualTo(2);
        assertThat(tallies.get(7L).drops()).containsOnlyKeys(new StagedPolicyStore.Pattern("x/a", "y/b", 8080, "TCP"));
        // A staged policy that does not compile is left out, and says why.
        assertThat(judge.failures()).containsOnlyKeys(8L);
        assertThat(judge.failures().get(8L)).startsWith("not judged: it does not compile");
        assertThat(tallies).doesNotContainKey(8L);
    }
}
