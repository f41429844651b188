package dev.weir.alerting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.alerting.eval.Alert;
import dev.weir.alerting.eval.Evaluator;
import dev.weir.alerting.eval.Event;
import dev.weir.alerting.notify.Inhibition;
import dev.weir.alerting.notify.Matcher;
import dev.weir.alerting.notify.Notification;
import dev.weir.alerting.notify.Notifier;
import dev.weir.alerting.notify.Receiver;
import dev.weir.alerting.notify.Silence;
import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.RuleParser;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EvaluatorAndNotifierTest {

    private static final long T0 = 1_800_000_000_000L;

    private static Event drop(String namespace) {
        return new Event(Rule.Stream.POLICY_DROPS, T0, Map.of("destination_namespace", namespace), Map.of());
    }

    private static Evaluator evaluator(String yaml) {
        Evaluator evaluator = new Evaluator();
        evaluator.setRules(RuleParser.parse(yaml));
        return evaluator;
    }

    @Test
    void aFiringAlertTakenBackAfterARestartKeepsItsIdentityAndResolvesWhenItNoLongerHolds() {
        String rule = "{name: Drops, stream: policy-drops, window: 10s, above: 3, groupBy: [destination_namespace]}";
        Evaluator before = evaluator(rule);
        for (int i = 0; i < 5; i++) {
            before.add(drop("shop"), T0);
        }
        Alert fired = before.tick(T0).get(0);
        assertThat(fired.status()).isEqualTo(Alert.Status.FIRING);
        Evaluator.Firing stored = before.firing().get(0);
        assertThat(stored.fingerprint()).isEqualTo(fired.fingerprint());

        // The restart: a new evaluator, nothing in its windows, the alert taken back.
        Evaluator after = evaluator(rule);
        long restart = T0 + 60_000;
        assertThat(after.restore(stored, restart)).isTrue();
        assertThat(after.alerts()).singleElement().satisfies(a -> {
            assertThat(a.fingerprint()).isEqualTo(fired.fingerprint());
            assertThat(a.startsAtMs()).isEqualTo(fired.startsAtMs());
        });
        assertThat(after.tick(restart)).as("the window gets its time to fill").isEmpty();
        // Still held by new drops: still firing, the same alert.
        for (int i = 0; i < 5; i++) {
            after.add(drop("shop"), restart + 5_000);
        }
        assertThat(after.tick(restart + 5_000)).isEmpty();
        // No drops for a window after that: resolved, notified as the alert it always was.
        List<Alert> resolved = after.tick(restart + 16_000);
        assertThat(resolved).singleElement().satisfies(a -> {
            assertThat(a.status()).isEqualTo(Alert.Status.RESOLVED);
            assertThat(a.fingerprint()).isEqualTo(fired.fingerprint());
        });
        assertThat(evaluator("{name: Other, stream: policy-drops, window: 10s, above: 3}").restore(stored, restart))
                .as("its rule is gone").isFalse();
    }

    @Test
    void anAlertIsPendingForItsForThenFiringThenResolvedAfterKeepFiringFor() {
        Evaluator evaluator = evaluator("""
                {name: Drops, stream: policy-drops, window: 10s, above: 3, groupBy: [destination_namespace], for: 2s,
                 keepFiringFor: 3s, labels: {team: platform}, annotations: {summary: "{{ $value }} drops"}}
                """);
        for (int i = 0; i < 5; i++) {
            evaluator.add(drop("shop"), T0);
        }
        evaluator.add(drop("db"), T0);
        List<Alert> first = evaluator.tick(T0);
        assertThat(first).singleElement().satisfies(a -> {
            assertThat(a.status()).isEqualTo(Alert.Status.PENDING);
            assertThat(a.labels()).containsEntry("alertname", "Drops").containsEntry("destination_namespace", "shop")
                    .containsEntry("team", "platform").containsEntry("severity", "warning");
        });
        assertThat(evaluator.tick(T0 + 1000)).isEmpty();
        List<Alert> firing = evaluator.tick(T0 + 2000);
        assertThat(firing).singleElement().satisfies(a -> {
            assertThat(a.status()).isEqualTo(Alert.Status.FIRING);
            assertThat(a.annotations()).containsEntry("summary", "5 drops");
            assertThat(a.fingerprint()).isEqualTo(first.get(0).fingerprint());
        });
        // The drops leave the 10 s window at T0+10s; keepFiringFor holds the alert 3 s longer.
        assertThat(evaluator.tick(T0 + 9_000)).isEmpty();
        assertThat(evaluator.tick(T0 + 10_000)).isEmpty();
        assertThat(evaluator.tick(T0 + 11_000)).isEmpty();
        List<Alert> resolved = evaluator.tick(T0 + 12_000);
        assertThat(resolved).singleElement().satisfies(a -> {
            assertThat(a.status()).isEqualTo(Alert.Status.RESOLVED);
            assertThat(a.endsAtMs()).isEqualTo(T0 + 12_000);
        });
        assertThat(evaluator.alerts()).isEmpty();
    }

    @Test
    void aConnectionTwoStagedPoliciesWouldDropIsAnEventForEachAndTheirRuleFiresPerPolicy() {
        Evaluator evaluator = evaluator("""
                {name: StagedPolicyWouldDrop, stream: staged-drops, window: 10m, above: 0, groupBy: [policy]}
                """);
        dev.weir.proto.flow.v1.Flow flow = dev.weir.proto.flow.v1.Flow.newBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(T0 / 1000))
                .setDestination(dev.weir.proto.flow.v1.Endpoint.newBuilder().setNamespace("y").setPodName("b"))
                .addStagedDeniedBy(dev.weir.proto.flow.v1.PolicyRef.newBuilder().setKind("NetworkPolicy").setNamespace("y")
                        .setName("only-z"))
                .addStagedDeniedBy(dev.weir.proto.flow.v1.PolicyRef.newBuilder().setKind("WeirNetworkPolicy").setName("all"))
                .build();
        List<Event> events = dev.weir.alerting.eval.Events.ofStagedDrop(flow);
        assertThat(events).extracting(e -> e.labels().get("policy"))
                .containsExactly("NetworkPolicy/y/only-z", "WeirNetworkPolicy/all");
        assertThat(events).allSatisfy(e -> assertThat(e.stream()).isEqualTo(Rule.Stream.STAGED_DROPS));
        events.forEach(e -> evaluator.add(e, T0));
        assertThat(evaluator.tick(T0)).extracting(a -> a.labels().get("policy"))
                .containsExactlyInAnyOrder("NetworkPolicy/y/only-z", "WeirNetworkPolicy/all");
        // A flow of the flows topic names no staged policy: no such event.
        assertThat(dev.weir.alerting.eval.Events.ofStagedDrop(flow.toBuilder().clearStagedDeniedBy().build())).isEmpty();
    }

    @Test
    void aConditionThatStopsHoldingBeforeItsForNeverFires() {
        Evaluator evaluator = evaluator("{name: Drops, stream: policy-drops, window: 2s, above: 0, for: 5s}");
        evaluator.add(drop("shop"), T0);
        assertThat(evaluator.tick(T0)).extracting(Alert::status).containsExactly(Alert.Status.PENDING);
        assertThat(evaluator.tick(T0 + 3000)).isEmpty();
        assertThat(evaluator.alerts()).isEmpty();
    }

    @Test
    void aNodeThatStopsReportingFiresItsAbsence() {
        Evaluator evaluator = evaluator("{name: Quiet, stream: node-status, absentFor: 30s, groupBy: [node]}");
        evaluator.add(new Event(Rule.Stream.NODE_STATUS, T0, Map.of("node", "node-1"), Map.of()), T0);
        assertThat(evaluator.tick(T0 + 10_000)).isEmpty();
        assertThat(evaluator.tick(T0 + 30_000)).singleElement()
                .satisfies(a -> assertThat(a.labels()).containsEntry("node", "node-1"));
        evaluator.add(new Event(Rule.Stream.NODE_STATUS, T0, Map.of("node", "node-1"), Map.of()), T0 + 31_000);
        assertThat(evaluator.tick(T0 + 31_000)).extracting(Alert::status).containsExactly(Alert.Status.RESOLVED);
    }

    @Test
    void aggregatesOverValues() {
        Evaluator evaluator = evaluator("{name: Lost, stream: node-status, aggregate: increase, value: flows_lost, "
                + "window: 1m, above: 5, groupBy: [node]}");
        evaluator.add(new Event(Rule.Stream.NODE_STATUS, T0, Map.of("node", "n"), Map.of("flows_lost", 100.0)), T0);
        evaluator.add(new Event(Rule.Stream.NODE_STATUS, T0, Map.of("node", "n"), Map.of("flows_lost", 103.0)), T0 + 10_000);
        assertThat(evaluator.tick(T0 + 10_000)).isEmpty();
        evaluator.add(new Event(Rule.Stream.NODE_STATUS, T0, Map.of("node", "n"), Map.of("flows_lost", 110.0)), T0 + 20_000);
        assertThat(evaluator.tick(T0 + 20_000)).singleElement().satisfies(a -> assertThat(a.value()).isEqualTo(10.0));
    }

    private static Receiver receiver(Duration wait, Duration interval) {
        return new Receiver("ops", "http://example.invalid/hook", Receiver.Format.ALERTMANAGER, List.of(), List.of(),
                List.of("alertname"), wait, interval, Duration.ofHours(4), false, null);
    }

    private static Alert alert(String namespace, Alert.Status status, String severity) {
        Map<String, String> labels = Map.of("alertname", "Drops", "destination_namespace", namespace, "severity", severity);
        return new Alert(Alert.fingerprint(labels), "Drops", labels, Map.of(), status, T0, status == Alert.Status.RESOLVED
                ? T0 + 60_000 : 0, 1);
    }

    @Test
    void aBurstIsOneGroupedNotificationAfterGroupWaitAndResolvedOnesFollowOnce() {
        Notifier notifier = new Notifier();
        notifier.configure(List.of(receiver(Duration.ofSeconds(2), Duration.ofSeconds(5))), List.of(), List.of());
        notifier.accept(alert("shop", Alert.Status.FIRING, "warning"), T0);
        notifier.accept(alert("db", Alert.Status.FIRING, "warning"), T0 + 500);
        assertThat(notifier.flush(T0 + 1000, List.of())).isEmpty();
        List<Notification> first = notifier.flush(T0 + 2000, List.of());
        assertThat(first).singleElement().satisfies(n -> {
            assertThat(n.alerts()).hasSize(2);
            assertThat(n.status()).isEqualTo("firing");
            assertThat(n.groupLabels()).containsEntry("alertname", "Drops");
        });
        notifier.accept(alert("shop", Alert.Status.RESOLVED, "warning"), T0 + 3000);
        assertThat(notifier.flush(T0 + 4000, List.of())).isEmpty(); // groupInterval
        List<Notification> second = notifier.flush(T0 + 7000, List.of());
        assertThat(second).singleElement().satisfies(n -> assertThat(n.alerts()).extracting(Alert::status)
                .containsExactlyInAnyOrder(Alert.Status.RESOLVED, Alert.Status.FIRING));
        assertThat(notifier.flush(T0 + 13_000, List.of())).isEmpty(); // unchanged: repeat interval is 4h
    }

    /** A DNS window as the DNS service publishes it: answers of the given latencies, some NXDOMAIN. */
    private static dev.weir.proto.dns.v1.DnsClientStats window(long endMs, double latencyMs, int answers, int nxdomain,
            int searchPathWasted) {
        long[] buckets = new long[dev.weir.common.dns.LatencyHistogram.BUCKETS];
        buckets[dev.weir.common.dns.LatencyHistogram.bucket(latencyMs)] = answers;
        var stats = dev.weir.proto.dns.v1.DnsClientStats.newBuilder().setNamespace("shop").setWorkload("cart")
                .setPodName("cart-1").setQueries(answers).putResponses("NOERROR", answers - nxdomain)
                .putResponses("NXDOMAIN", nxdomain).setSearchPathWasted(searchPathWasted)
                .setWindowEnd(com.google.protobuf.Timestamp.newBuilder().setSeconds(endMs / 1000))
                .setLatencyP95Ms(latencyMs);
        for (long b : buckets) {
            stats.addLatencyBuckets((int) b);
        }
        return stats.build();
    }

    @Test
    void aLatencyPercentileOverARangeIsThatOfTheWindowsHistogramsAddedTogether() {
        Evaluator evaluator = evaluator("{name: Slow, stream: dns-stats, aggregate: p95, value: latency, window: 1m, "
                + "above: 100, groupBy: [namespace, workload]}");
        // Twenty answers in 1 ms, then a window with one answer in 800 ms (its own p95: 800 ms).
        evaluator.add(dev.weir.alerting.eval.Events.of(window(T0, 1, 20, 0, 0)), T0);
        evaluator.add(dev.weir.alerting.eval.Events.of(window(T0 + 10_000, 800, 1, 0, 0)), T0 + 10_000);
        assertThat(evaluator.tick(T0 + 10_000)).as("p95 of the 21 answers is 1 ms, not the worst window's 800").isEmpty();
        // Ten more slow answers: now the range's p95 is slow.
        evaluator.add(dev.weir.alerting.eval.Events.of(window(T0 + 20_000, 800, 10, 0, 0)), T0 + 20_000);
        assertThat(evaluator.tick(T0 + 20_000)).singleElement().satisfies(a -> assertThat(a.value()).isBetween(800.0, 1000.0));

        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> RuleParser.parse(
                "{name: Bad, stream: dns-stats, aggregate: p95, value: latency_p95_ms, window: 1m, above: 1}")))
                .hasMessageContaining("latency");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> RuleParser.parse(
                "{name: Bad, stream: flows, aggregate: p99, value: latency, window: 1m, above: 1}")))
                .hasMessageContaining("dns-stats");
    }

    @Test
    void theNxdomainRatioIsTheDnsServicesOneLeavingSearchPathCandidatesOut() {
        // Ten answers, six NXDOMAIN of which five are search-path candidates: one real failure in ten.
        var stats = window(T0, 1, 10, 6, 5);
        assertThat(dev.weir.alerting.eval.Events.of(stats).values().get("nxdomain_ratio"))
                .isEqualTo(dev.weir.common.dns.DnsWindowMeasures.nxdomainRatio(stats)).isEqualTo(0.1);
    }

    @Test
    void anAlertThatFiredAndResolvedWithinGroupWaitIsNoNewsToTheReceiver() {
        Notifier notifier = new Notifier();
        notifier.configure(List.of(receiver(Duration.ofSeconds(2), Duration.ofSeconds(5))), List.of(), List.of());
        notifier.accept(alert("shop", Alert.Status.FIRING, "warning"), T0);
        notifier.accept(alert("db", Alert.Status.FIRING, "warning"), T0);
        notifier.accept(alert("shop", Alert.Status.RESOLVED, "warning"), T0 + 1000);
        // The first notification: db firing; shop's resolution alone would tell of a firing never sent.
        assertThat(notifier.flush(T0 + 2000, List.of())).singleElement().satisfies(n -> assertThat(n.alerts())
                .extracting(a -> a.labels().get("destination_namespace")).containsExactly("db"));
        notifier.accept(alert("db", Alert.Status.RESOLVED, "warning"), T0 + 3000);
        assertThat(notifier.flush(T0 + 7000, List.of())).singleElement().satisfies(n -> assertThat(n.alerts())
                .extracting(Alert::status).containsExactly(Alert.Status.RESOLVED));

        Notifier quick = new Notifier();
        quick.configure(List.of(receiver(Duration.ofSeconds(2), Duration.ofSeconds(5))), List.of(), List.of());
        quick.accept(alert("shop", Alert.Status.FIRING, "warning"), T0);
        quick.accept(alert("shop", Alert.Status.RESOLVED, "warning"), T0 + 1000);
        assertThat(quick.flush(T0 + 2000, List.of())).as("resolved before anyone was told").isEmpty();
        assertThat(quick.flush(T0 + 60_000, List.of())).isEmpty();
    }

    @Test
    void silencedAndInhibitedAlertsAreLeftOut() {
        Notifier notifier = new Notifier();
        Silence silence = new Silence("s1", List.of(Matcher.parse("destination_namespace=db")), Instant.ofEpochMilli(T0),
                Instant.ofEpochMilli(T0 + 60_000), "ops", "maintenance");
        Inhibition inhibition = new Inhibition(List.of(Matcher.parse("severity=critical")),
                List.of(Matcher.parse("severity=warning")), List.of("destination_namespace"));
        notifier.configure(List.of(receiver(Duration.ZERO, Duration.ofSeconds(5))), List.of(silence), List.of(inhibition));
        Alert critical = alert("web", Alert.Status.FIRING, "critical");
        notifier.accept(alert("db", Alert.Status.FIRING, "warning"), T0);
        notifier.accept(alert("web", Alert.Status.FIRING, "warning"), T0);
        notifier.accept(alert("shop", Alert.Status.FIRING, "warning"), T0);
        List<Notification> sent = notifier.flush(T0, List.of(critical));
        assertThat(sent).singleElement().satisfies(n -> assertThat(n.alerts()).extracting(a -> a.labels()
                .get("destination_namespace")).containsExactly("shop"));
        assertThat(notifier.silencedBy(List.of(alert("db", Alert.Status.FIRING, "warning")), T0)).containsKey(
                alert("db", Alert.Status.FIRING, "warning").fingerprint());
    }
}
