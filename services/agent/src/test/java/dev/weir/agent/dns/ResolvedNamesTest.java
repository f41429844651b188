package dev.weir.agent.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The names a pod resolved, by the address the answer gave: per client, for the answer's TTL, bounded. */
class ResolvedNamesTest {

    @Test
    void aPodsFlowsToAnAddressCarryTheNamesItResolvedToIt() {
        ResolvedNames names = new ResolvedNames(100);
        names.learn("198.18.1.10", "api.payments.svc.cluster.local.", List.of("198.18.2.10", "198.18.2.11"), 60, 0);
        assertThat(names.of("198.18.1.10", "198.18.2.11", 1_000)).containsExactly("api.payments.svc.cluster.local");
        // Another pod did not resolve it: its flows to the same address carry no name.
        assertThat(names.of("198.18.1.99", "198.18.2.11", 1_000)).isEmpty();
        // Past the TTL (and the floor every client caches for), the name is gone.
        assertThat(names.of("198.18.1.10", "198.18.2.10", 61_000)).isEmpty();
        assertThat(names.size()).isEqualTo(1);
    }

    @Test
    void aShortTtlLastsTheFloorAndNamesPerAddressAreBounded() {
        ResolvedNames names = new ResolvedNames(100);
        names.learn("c", "a.example", List.of("198.18.9.1"), 0, 0);
        assertThat(names.of("c", "198.18.9.1", ResolvedNames.MIN_TTL_MS - 1)).containsExactly("a.example");
        for (int i = 0; i < 10; i++) {
            names.learn("c", "n" + i + ".example", List.of("198.18.9.1"), 60, 0);
        }
        assertThat(names.of("c", "198.18.9.1", 1)).hasSize(ResolvedNames.MAX_NAMES_PER_ADDRESS).contains("n9.example");
    }

    @Test
    void theTableIsBoundedTheLeastRecentlyUsedGivingWay() {
        ResolvedNames names = new ResolvedNames(3);
        for (int i = 0; i < 10; i++) {
            names.learn("c", "n.example", List.of("198.18.9." + i), 60, 0);
        }
        assertThat(names.size()).isEqualTo(3);
        assertThat(names.of("c", "198.18.9.9", 1)).containsExactly("n.example");
        assertThat(names.of("c", "198.18.9.0", 1)).isEmpty();
    }
}
