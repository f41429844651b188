package dev.weir.agent.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.datapath.PolicyEntry;
import dev.weir.agent.datapath.PolicyKey;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.PolicyMapEntry;
import dev.weir.proto.state.v1.Protocol;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PolicyDiffTest {

    static final int IN = MapLayout.DIR_INGRESS;

    static PolicyDiff.Rule allow(int identity, int first, int last) {
        return new PolicyDiff.Rule(identity, IN, 6, first, last, 1, false);
    }

    static PolicyDiff.Rule deny(int identity, int first, int last) {
        return new PolicyDiff.Rule(identity, IN, 6, first, last, 2, true);
    }

    /** The ports of TCP an identity's keys cover, as the trie would match them. */
    static BitSet covered(Map<PolicyKey, PolicyEntry> entries, int identity, boolean denied) {
        BitSet ports = new BitSet(65536);
        entries.forEach((key, entry) -> {
            if (key.identity() == identity && entry.deny() == denied && (key.protocol() == 6 || key.protocol() == 0)) {
                ports.set(key.protocol() == 0 ? 0 : key.firstPort(), (key.protocol() == 0 ? 65535 : key.lastPort()) + 1);
            }
        });
        return ports;
    }

    @Test
    void theKubernetesDocsRangeIsAHandfulOfPrefixesCoveringItExactly() {
        Map<PolicyKey, PolicyEntry> entries = PolicyDiff.desired(List.of(allow(7, 32000, 32768)));
        assertThat(entries).hasSizeLessThanOrEqualTo(16);
        BitSet ports = covered(entries, 7, false);
        assertThat(ports.nextSetBit(0)).isEqualTo(32000);
        assertThat(ports.previousSetBit(65535)).isEqualTo(32768);
        assertThat(ports.cardinality()).isEqualTo(769);
    }

    @Test
    void everyPortIsTheAnyPortKeyAndAlmostEveryPortFifteenPrefixes() {
        assertThat(PolicyDiff.desired(List.of(allow(7, 1, 65535))).keySet()).singleElement()
                .satisfies(k -> assertThat(k.portBits()).isZero());
        assertThat(PolicyDiff.desired(List.of(allow(7, 2, 65535)))).hasSize(15);
        assertThat(PolicyDiff.desired(List.of(allow(7, 0, 0))).keySet()).singleElement()
                .satisfies(k -> assertThat(k.portBits()).isZero());
    }

    @Test
    void randomRangesAreCoveredExactly() {
        Random random = new Random(42);
        for (int i = 0; i < 500; i++) {
            int first = 1 + random.nextInt(65535);
            int last = first + random.nextInt(65536 - first);
            Map<PolicyKey, PolicyEntry> entries = PolicyDiff.desired(List.of(allow(9, first, last)));
            BitSet ports = covered(entries, 9, false);
            assertThat(ports.cardinality()).as("%d..%d", first, last).isEqualTo(last - first + 1);
            assertThat(ports.nextSetBit(0)).isEqualTo(first);
            assertThat(entries.size()).as("%d..%d", first, last).isLessThanOrEqualTo(30);
        }
    }

    @Test
    void anAllowInsideADenyIsLeftOutSoTheDenyIsFound() {
        Map<PolicyKey, PolicyEntry> entries = PolicyDiff.desired(List.of(allow(7, 8080, 8080), deny(7, 8000, 8999),
                allow(7, 9000, 9000), allow(8, 8080, 8080)));
        assertThat(entries.keySet()).doesNotContain(PolicyKey.of(7, 8080, 6, IN));
        assertThat(entries).containsKey(PolicyKey.of(7, 9000, 6, IN)).containsKey(PolicyKey.of(8, 8080, 6, IN));
        // A deny for any protocol hides every allow of the identity.
        Map<PolicyKey, PolicyEntry> all = PolicyDiff.desired(List.of(allow(7, 80, 80),
                new PolicyDiff.Rule(7, IN, 0, 0, 0, 3, true)));
        assertThat(all.values()).singleElement().satisfies(e -> assertThat(e.deny()).isTrue());
    }

    @Test
    void aPlanNarrowsFirstAndCountsThePeak() {
        Map<PolicyKey, PolicyEntry> current = PolicyDiff.desired(List.of(allow(1, 80, 80), allow(2, 80, 80),
                deny(3, 80, 80)));
        Map<PolicyKey, PolicyEntry> desired = PolicyDiff.desired(List.of(allow(1, 80, 80), allow(4, 80, 80),
                deny(5, 80, 80)));
        PolicyDiff.Plan plan = PolicyDiff.plan(desired, current);
        assertThat(plan.staleAllows()).containsExactly(PolicyKey.of(2, 80, 6, IN));
        assertThat(plan.staleDenies()).containsExactly(PolicyKey.of(3, 80, 6, IN));
        assertThat(plan.denies()).containsOnlyKeys(PolicyKey.of(5, 80, 6, IN));
        assertThat(plan.allows()).containsOnlyKeys(PolicyKey.of(4, 80, 6, IN));
        // 3 now, 1 stale allow out, 2 in, the stale deny last: 4 at most on the way.
        assertThat(plan.peakEntries()).isEqualTo(4);
    }

    @Test
    void malformedEntriesAreRefusedNamingTheEntry() {
        EndpointPolicyState backwards = EndpointPolicyState.newBuilder().addEntries(PolicyMapEntry.newBuilder()
                .setIdentity(1).setPort(90).setEndPort(80).setProtocol(Protocol.TCP).setDirection(Direction.DIRECTION_INGRESS))
                .build();
        assertThatThrownBy(() -> PolicyDiff.desired(backwards)).hasMessageContaining("entries[0]");
        EndpointPolicyState portWithoutProtocol = EndpointPolicyState.newBuilder().addEntries(PolicyMapEntry.newBuilder()
                .setIdentity(1).setPort(80).setDirection(Direction.DIRECTION_INGRESS)).build();
        assertThatThrownBy(() -> PolicyDiff.desired(portWithoutProtocol)).hasMessageContaining("needs a protocol");
        EndpointPolicyState overflow = EndpointPolicyState.newBuilder().addEntries(PolicyMapEntry.newBuilder()
                .setIdentity(1).setPort(1).setEndPort(70000).setProtocol(Protocol.UDP)
                .setDirection(Direction.DIRECTION_EGRESS)).build();
        assertThatThrownBy(() -> PolicyDiff.desired(overflow)).hasMessageContaining("1..70000");
        EndpointPolicyState icmpPort = EndpointPolicyState.newBuilder().addEntries(PolicyMapEntry.newBuilder()
                .setIdentity(1).setPort(8).setProtocolValue(1).setDirection(Direction.DIRECTION_INGRESS)).build();
        assertThatThrownBy(() -> PolicyDiff.desired(icmpPort)).hasMessageContaining("has no ports");
    }

    @Test
    void keysRoundTripThroughTheirTriePrefix() {
        for (PolicyKey key : PolicyDiff.desired(List.of(allow(7, 32000, 32768), allow(8, 0, 0),
                new PolicyDiff.Rule(9, IN, 0, 0, 0, 1, false))).keySet()) {
            assertThat(PolicyKey.fromPrefix(key.identity(), key.direction(), key.protocol(), key.port(),
                    key.prefixLength())).isEqualTo(key);
        }
        assertThatThrownBy(() -> PolicyKey.fromPrefix(1, IN, 6, 0, 44)).hasMessageContaining("44");
        assertThatThrownBy(() -> new PolicyKey(1, IN, 6, 32001, 10)).hasMessageContaining("past its");
    }
}
