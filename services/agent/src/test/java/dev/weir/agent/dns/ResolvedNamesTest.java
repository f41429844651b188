package dev.weir.agent.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The names a pod resolved, by the address the answer gave: per endpoint, for the answer's TTL, bounded. */
class ResolvedNamesTest {

    @Test
    void anEndpointsFlowsToAnAddressCarryTheNamesItResolvedToIt() {
        ResolvedNames names = new ResolvedNames(100);
        names.learn(3, "api.payments.svc.cluster.local.", List.of("198.18.2.10", "2001:db8::10"), 60, 0);
        assertThat(names.of(3, "198.18.2.10", 1_000)).containsExactly("api.payments.svc.cluster.local");
        // Over the other family too: the names are the endpoint's, not one address's.
        assertThat(names.of(3, "2001:db8::10", 1_000)).containsExactly("api.payments.svc.cluster.local");
        // Another pod did not resolve it: its flows to the same address carry no name.
        assertThat(names.of(4, "198.18.2.10", 1_000)).isEmpty();
        // Past the TTL, the name is gone.
        assertThat(names.of(3, "198.18.2.10", 61_000)).isEmpty();
        assertThat(names.size()).isEqualTo(1);
    }

    @Test
    void aShortTtlLastsTheFloorAndNamesPerAddressAreBounded() {
        ResolvedNames names = new ResolvedNames(100);
        names.learn(1, "a.example", List.of("198.18.9.1"), 0, 0);
        assertThat(names.of(1, "198.18.9.1", ResolvedNames.MIN_TTL_MS - 1)).containsExactly("a.example");
        for (int i = 0; i < 10; i++) {
            names.learn(1, "n" + i + ".example", List.of("198.18.9.1"), 60, 0);
        }
        assertThat(names.of(1, "198.18.9.1", 1)).hasSize(ResolvedNames.MAX_NAMES_PER_ADDRESS).contains("n9.example");
        names.learn(1, "x".repeat(300), List.of("198.18.9.2"), 60, 0);
        assertThat(names.of(1, "198.18.9.2", 1)).isEmpty();
    }

    @Test
    void onePodResolvingWithoutEndNeitherTakesTheMemoryNorEvictsTheOthers() {
        ResolvedNames names = new ResolvedNames(1000);
        names.learn(2, "cart.shop.svc.cluster.local.", List.of("198.18.1.11"), 60, 0);
        for (int i = 0; i < 5000; i++) {
            names.learn(9, "n" + i + ".evil.example", List.of("198.18." + (i / 250) + "." + (i % 250)), 3600, 0);
        }
        assertThat(names.size()).isLessThanOrEqualTo(1 + ResolvedNames.PER_ENDPOINT);
        assertThat(names.of(2, "198.18.1.11", 1)).containsExactly("cart.shop.svc.cluster.local");
        assertThat(names.evicted()).isPositive();
    }

    @Test
    void theTotalIsBoundedTheEndpointHoldingTheMostGivingWay() {
        ResolvedNames names = new ResolvedNames(300);
        for (int pod = 1; pod <= 3; pod++) {
            for (int i = 0; i < 200; i++) {
                names.learn(pod, "n.example", List.of("198.18." + pod + "." + i), 60, 0);
            }
        }
        assertThat(names.size()).isLessThanOrEqualTo(300);
        assertThat(names.of(3, "198.18.3.199", 1)).containsExactly("n.example");
    }
}
