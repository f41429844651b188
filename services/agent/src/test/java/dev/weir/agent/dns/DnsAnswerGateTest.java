package dev.weir.agent.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DnsAnswerGateTest {

    static final InetAddress RESOLVER = ip("198.18.0.53");
    static final InetAddress CLIENT = ip("198.18.1.10");
    static final InetAddress ATTACKER = ip("198.18.1.66");
    static final long SECOND = 1_000_000_000L;

    static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    final DnsAnswerGate gate = new DnsAnswerGate(Set.of(RESOLVER), Duration.ofSeconds(5), 4, 3600, 8);

    @Test
    void theResolversAnswerToTheQueryCountsOnce() {
        gate.query(CLIENT, 40000, RESOLVER, 7, "API.example.com.", 0);
        DnsAnswerGate.Accepted answer = gate.answer(RESOLVER, CLIENT, 40000, 7, "api.example.com.", List.of("198.18.9.9"),
                30, SECOND);
        assertThat(answer).isNotNull();
        assertThat(answer.ips()).containsExactly("198.18.9.9");
        assertThat(gate.answer(RESOLVER, CLIENT, 40000, 7, "api.example.com.", List.of("198.18.9.9"), 30, SECOND))
                .as("a second answer to the same query").isNull();
        assertThat(gate.refused(DnsAnswerGate.Refusal.NO_MATCHING_QUERY)).isEqualTo(1);
    }

    @Test
    void aForgedAnswerFromAnotherPodCountsForNothing() {
        gate.query(CLIENT, 40000, RESOLVER, 7, "api.example.com.", 0);
        assertThat(gate.answer(ATTACKER, CLIENT, 40000, 7, "api.example.com.", List.of("198.18.6.6"), 30, SECOND)).isNull();
        assertThat(gate.refused(DnsAnswerGate.Refusal.NOT_FROM_RESOLVER)).isEqualTo(1);
        // Nor does one from the resolver's address for a query nobody made, another port, id or name.
        assertThat(gate.answer(RESOLVER, CLIENT, 40001, 7, "api.example.com.", List.of("198.18.6.6"), 30, SECOND)).isNull();
        assertThat(gate.answer(RESOLVER, CLIENT, 40000, 8, "api.example.com.", List.of("198.18.6.6"), 30, SECOND)).isNull();
        assertThat(gate.answer(RESOLVER, CLIENT, 40000, 7, "evil.example.com.", List.of("198.18.6.6"), 30, SECOND)).isNull();
        assertThat(gate.refused(DnsAnswerGate.Refusal.NO_MATCHING_QUERY)).isEqualTo(3);
        // The real answer still counts: the forgeries did not use the query up.
        assertThat(gate.answer(RESOLVER, CLIENT, 40000, 7, "api.example.com.", List.of("198.18.9.9"), 30, SECOND)).isNotNull();
    }

    @Test
    void lateAnswersAreRefusedAndWhatCountsIsCapped() {
        gate.query(CLIENT, 40000, RESOLVER, 1, "a.example.com.", 0);
        assertThat(gate.answer(RESOLVER, CLIENT, 40000, 1, "a.example.com.", List.of("198.18.9.1"), 30, 6 * SECOND)).isNull();
        assertThat(gate.refused(DnsAnswerGate.Refusal.LATE)).isEqualTo(1);
        gate.query(CLIENT, 40000, RESOLVER, 2, "b.example.com.", 0);
        List<String> many = Collections.nCopies(100, "198.18.9.2");
        DnsAnswerGate.Accepted capped = gate.answer(RESOLVER, CLIENT, 40000, 2, "b.example.com.", many, Integer.MAX_VALUE,
                SECOND);
        assertThat(capped.ips()).hasSize(8);
        assertThat(capped.ttlSeconds()).isEqualTo(3600);
        assertThat(gate.refused(DnsAnswerGate.Refusal.TTL_CAPPED)).isEqualTo(1);
        assertThat(gate.refused(DnsAnswerGate.Refusal.TOO_MANY_ADDRESSES_CAPPED)).isEqualTo(1);
    }

    @Test
    void queriesToOthersAreNotRememberedAndTheMemoryIsBounded() {
        gate.query(CLIENT, 1, ATTACKER, 1, "x.", 0);
        assertThat(gate.outstanding()).isZero();
        for (int i = 0; i < 10; i++) {
            gate.query(CLIENT, 1000 + i, RESOLVER, i, "n" + i + ".", 0);
        }
        assertThat(gate.outstanding()).isEqualTo(4);
        assertThat(gate.answer(RESOLVER, CLIENT, 1000, 0, "n0.", List.of("198.18.9.3"), 30, 1)).isNull();
        assertThat(gate.answer(RESOLVER, CLIENT, 1009, 9, "n9.", List.of("198.18.9.3"), 30, 1)).isNotNull();
    }
}
