package dev.weir.dns.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.common.kafka.DeadLetter;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.InsightKind;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every detector of the DNS analytics, on the real topology, driven by flows as agents publish them. */
class DnsTopologyTest {

    private static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    private static final long T0 = Instant.parse("2026-03-01T10:00:00Z").toEpochMilli();
    private static final String[] SEARCH = {"shop.svc.cluster.local.", "svc.cluster.local.", "cluster.local."};
    private static final DnsSettings SETTINGS = new DnsSettings(Duration.ofSeconds(10), Duration.ofSeconds(5),
            Duration.ofSeconds(30), 10, "cluster.local");

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> flows;
    private TestOutputTopic<String, DnsInsight> insights;
    private TestOutputTopic<String, DnsClientStats> stats;
    private final DnsFlows frontend = new DnsFlows("node-1", "shop", "frontend-7d9f", "198.18.1.10");
    private long now = T0;
    private int id = 1;

    @BeforeEach
    void start() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, DnsTopology.GROUP);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(DnsTopology.build(CATALOGUE, SETTINGS), props, Instant.ofEpochMilli(T0));
        flows = driver.createInputTopic(CATALOGUE.name(TopicId.FLOWS), Serdes.String().serializer(),
                Serdes.ByteArray().serializer());
        insights = driver.createOutputTopic(CATALOGUE.name(TopicId.DNS_INSIGHTS), Serdes.String().deserializer(),
                new ProtoSerde<>(DnsInsight.parser()).deserializer());
        stats = driver.createOutputTopic(CATALOGUE.name(TopicId.DNS_STATS), Serdes.String().deserializer(),
                new ProtoSerde<>(DnsClientStats.parser()).deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private void send(Flow flow) {
        flows.pipeInput(new TestRecord<>(flow.getNodeName(), flow.toByteArray(), Instant.ofEpochMilli(now)));
    }

    /** Lets wall-clock time pass; the analyzers' once-a-second tick runs. */
    private void pass(Duration duration) {
        now += duration.toMillis();
        driver.advanceWallClockTime(duration);
    }

    /** A glibc-style lookup with ndots:5: every search candidate (A and AAAA) NXDOMAIN, then the name. */
    private void expandedLookup(DnsFlows pod, String name) {
        for (String suffix : SEARCH) {
            for (String qtype : List.of("A", "AAAA")) {
                int q = id++;
                send(pod.query(now, q, qtype, name + "." + suffix));
                send(pod.response(now + 1, q, qtype, name + "." + suffix, 3, 1));
            }
        }
        directLookup(pod, name + ".");
    }

    private void directLookup(DnsFlows pod, String fqdn) {
        for (String qtype : List.of("A", "AAAA")) {
            int q = id++;
            send(pod.query(now + 2, q, qtype, fqdn));
            send(pod.response(now + 3, q, qtype, fqdn, 0, 2));
        }
    }

    private List<DnsInsight> insightsOf(InsightKind kind) {
        return insights.readValuesToList().stream().filter(i -> i.getKind() == kind).toList();
    }

    @Test
    void aFlowWithATimeNoClockGivesIsSkippedAndTheAnalyticsGoOn() {
        // Seconds past year 9999: the window code cannot hold it; the record is passed over, not retried forever.
        send(frontend.query(now, id++, "A", "cart.shop.svc.cluster.local.").toBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(Long.MAX_VALUE / 1000)).build());
        send(frontend.droppedQuery(now, "NetworkPolicy/shop/deny-all").toBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(-62_200_000_000L)).build());
        expandedLookup(frontend, "api.example.com");
        assertThat(insightsOf(InsightKind.SEARCH_PATH_EXPANSION)).isNotEmpty();
    }

    @Test
    void searchPathExpansionNamesThePodTheFactorAndTheFixAndResolvesAfterTrailingDots() {
        expandedLookup(frontend, "api.example.com");
        List<DnsInsight> found = insightsOf(InsightKind.SEARCH_PATH_EXPANSION);
        assertThat(found).hasSize(1);
        DnsInsight insight = found.get(0);
        assertThat(insight.getNamespace()).isEqualTo("shop");
        assertThat(insight.getPodName()).isEqualTo("frontend-7d9f");
        assertThat(insight.getValue()).isEqualTo(4.0); // 6 NXDOMAIN candidates + 2 answers, for 2 answers
        assertThat(insight.getResolved()).isFalse();
        assertThat(insight.getEvidenceList()).contains("A api.example.com.shop.svc.cluster.local. NXDOMAIN",
                "AAAA api.example.com.cluster.local. NXDOMAIN", "A api.example.com. NOERROR");
        assertThat(insight.getSuggestedFix()).contains("trailing dot (api.example.com.)").contains("ndots")
                .contains("NodeLocal DNSCache");

        for (int i = 0; i < 8; i++) {
            pass(Duration.ofSeconds(5));
            directLookup(frontend, "api.example.com.");
        }
        List<DnsInsight> later = insightsOf(InsightKind.SEARCH_PATH_EXPANSION);
        assertThat(later).hasSize(1);
        assertThat(later.get(0).getResolved()).isTrue();
        assertThat(later.get(0).getId()).isEqualTo(insight.getId());
    }

    /** A lookup that never resolves: every search candidate and the name itself NXDOMAIN (A only). */
    private void failedLookup(DnsFlows pod, String name) {
        for (String suffix : SEARCH) {
            int q = id++;
            send(pod.query(now, q, "A", name + "." + suffix));
            send(pod.response(now + 1, q, "A", name + "." + suffix, 3, 1));
        }
        int q = id++;
        send(pod.query(now + 2, q, "A", name + "."));
        send(pod.response(now + 3, q, "A", name + ".", 3, 1));
    }

    @Test
    void aNameThatNeverResolvesIsAnInsightNamingItTheRateAndTheLikelyCause() {
        for (int window = 0; window < 2; window++) { // it keeps failing: in two windows in a row
            for (int i = 0; i < 4; i++) {
                failedLookup(frontend, "no-such-service");
                expandedLookup(frontend, "cart"); // and names that resolve, which are not called
            }
            pass(Duration.ofSeconds(10)); // the window closes
        }
        List<DnsInsight> found = insightsOf(InsightKind.UNRESOLVABLE_NAME);
        assertThat(found).hasSize(1);
        DnsInsight insight = found.get(0);
        assertThat(insight.getSummary()).contains("no-such-service").contains("4 NXDOMAIN in the last 10 s")
                .contains("24.0 a minute").contains("no Service 'no-such-service' in namespace shop")
                .contains("another namespace").doesNotContain("cart");
        assertThat(insight.getValue()).isEqualTo(24.0);
        // The name as asked; its candidates too when they are among the window's top NXDOMAIN names.
        assertThat(insight.getEvidenceList()).first().isEqualTo("no-such-service. NXDOMAIN x4");
        // It stops: after resolve-after without failing, resolved.
        for (int i = 0; i < 8; i++) {
            pass(Duration.ofSeconds(5));
            expandedLookup(frontend, "cart");
        }
        List<DnsInsight> later = insightsOf(InsightKind.UNRESOLVABLE_NAME);
        assertThat(later).isNotEmpty();
        assertThat(later.get(later.size() - 1).getResolved()).isTrue();
    }

    @Test
    void aNameAskedLessOftenThanEveryWindowIsStillANameThatNeverResolves() {
        failedLookup(frontend, "no-such-service");
        pass(Duration.ofSeconds(10));
        expandedLookup(frontend, "cart"); // a window without the failing name
        pass(Duration.ofSeconds(10));
        failedLookup(frontend, "no-such-service"); // 20 s later, within resolve-after
        pass(Duration.ofSeconds(10));
        assertThat(insightsOf(InsightKind.UNRESOLVABLE_NAME)).hasSize(1);
    }

    @Test
    void oneFailedLookupIsNoInsightNorIsANameAskedAsItIsThatResolvesAsACandidate() {
        // One lookup, its A and AAAA both NXDOMAIN: a mistake once, not a name the pod keeps asking for.
        for (String qtype : List.of("A", "AAAA")) {
            int q = id++;
            send(frontend.query(now, q, qtype, "typo-once."));
            send(frontend.response(now + 1, q, qtype, "typo-once.", 3, 1));
        }
        // With ndots:1, "cart.shop" is asked as it is first (NXDOMAIN), then found as a candidate.
        for (int window = 0; window < 3; window++) {
            int q = id++;
            send(frontend.query(now, q, "A", "cart.shop."));
            send(frontend.response(now + 1, q, "A", "cart.shop.", 3, 1));
            directLookup(frontend, "cart.shop.svc.cluster.local.");
            pass(Duration.ofSeconds(10));
        }
        assertThat(insightsOf(InsightKind.UNRESOLVABLE_NAME)).isEmpty();
    }

    @Test
    void aServiceByNamespaceThatDoesNotExistAndANameThatSometimesResolvesAreToldApart() {
        for (int window = 0; window < 2; window++) {
            for (int i = 0; i < 3; i++) {
                failedLookup(frontend, "api.paymnts"); // <service>.<namespace>, misspelt
            }
            // Fails three times but also resolves in the window: not "never resolves".
            for (int i = 0; i < 3; i++) {
                failedLookup(frontend, "flaky");
            }
            directLookup(frontend, "flaky.shop.svc.cluster.local.");
            pass(Duration.ofSeconds(10));
        }
        List<DnsInsight> found = insightsOf(InsightKind.UNRESOLVABLE_NAME);
        assertThat(found).hasSize(1);
        assertThat(found.get(0).getSummary()).contains("api.paymnts")
                .contains("no Service 'api' in namespace 'paymnts'").doesNotContain("flaky");
    }

    @Test
    void anInClusterNameFoundAtALaterSearchSuffixCountsTheEarlierCandidatesAsWaste() {
        // "api.payments" from namespace shop: tried in shop first (NXDOMAIN), found in svc.cluster.local.
        for (String qtype : List.of("A", "AAAA")) {
            int q = id++;
            send(frontend.query(now, q, qtype, "api.payments.shop.svc.cluster.local."));
            send(frontend.response(now + 1, q, qtype, "api.payments.shop.svc.cluster.local.", 3, 1));
        }
        directLookup(frontend, "api.payments.svc.cluster.local.");
        List<DnsInsight> found = insightsOf(InsightKind.SEARCH_PATH_EXPANSION);
        assertThat(found).hasSize(1);
        assertThat(found.get(0).getValue()).isEqualTo(2.0); // 2 NXDOMAIN candidates + 2 answers, for 2 answers
        assertThat(found.get(0).getEvidenceList()).contains("A api.payments.shop.svc.cluster.local. NXDOMAIN",
                "A api.payments.svc.cluster.local. NOERROR");
    }

    @Test
    void searchCandidatesAreTheSameNameWithALongerSuffix() {
        assertThat(SearchPathDetector.candidateOf("api.payments.shop.svc.cluster.local.", "api.payments.svc.cluster.local."))
                .isTrue();
        assertThat(SearchPathDetector.candidateOf("api.example.com.cluster.local.", "api.example.com.")).isTrue();
        assertThat(SearchPathDetector.candidateOf("cart.shop.svc.cluster.local.", "api.payments.svc.cluster.local.")).isFalse();
        assertThat(SearchPathDetector.candidateOf("api.payments.svc.cluster.local.", "api.payments.svc.cluster.local."))
                .isFalse();
        assertThat(SearchPathDetector.candidateOf("api.payments.svc.cluster.local.", "api.payments.shop.svc.cluster.local."))
                .isFalse(); // a shorter suffix is tried later, never earlier
        assertThat(SearchPathDetector.candidateOf("api.other.local.", "api.payments.svc.cluster.local.")).isFalse();
    }

    @Test
    void dnsDroppedByPolicyNamesThePolicyAndItsFix() {
        send(frontend.droppedQuery(now, "NetworkPolicy/shop/lockdown"));
        send(frontend.droppedQuery(now + 5, "NetworkPolicy/shop/lockdown"));
        List<DnsInsight> found = insightsOf(InsightKind.BLOCKED_BY_POLICY);
        assertThat(found).hasSize(1);
        assertThat(found.get(0).getPoliciesList()).containsExactly("NetworkPolicy/shop/lockdown");
        assertThat(found.get(0).getSummary()).contains("shop/frontend-7d9f").contains("NetworkPolicy/shop/lockdown");
        assertThat(found.get(0).getSuggestedFix()).contains("port 53");
        assertThat(found.get(0).getEvidence(0)).contains("198.18.1.10:40000 -> 198.18.0.53:53 DROPPED (POLICY_DENIED)");
    }

    @Test
    void unansweredQueriesAndTheirRetransmissionsAreTimeouts() {
        send(frontend.query(now, 7, "A", "db.shop.svc.cluster.local."));
        send(frontend.query(now, 8, "AAAA", "db.shop.svc.cluster.local."));
        send(frontend.response(now + 1, 8, "AAAA", "db.shop.svc.cluster.local.", 0, 1));
        pass(Duration.ofSeconds(5));
        send(frontend.query(now, 7, "A", "db.shop.svc.cluster.local.")); // the resolver's retry after 5 s
        pass(Duration.ofSeconds(6));
        List<DnsInsight> found = insightsOf(InsightKind.TIMEOUTS);
        assertThat(found).isNotEmpty();
        assertThat(found.get(0).getEvidenceList()).anyMatch(e -> e.startsWith("A db.shop.svc.cluster.local. unanswered")
                && e.contains("AAAA twin, from the same socket, was answered"));
        pass(Duration.ofSeconds(10));
        DnsClientStats window = stats.readValuesToList().get(0);
        assertThat(window.getUnanswered()).isEqualTo(2);
        assertThat(window.getRetransmissions()).isEqualTo(1);
    }

    @Test
    void anNxdomainSpikeAgainstThePodsOwnBaseline() {
        for (int w = 0; w < 4; w++) {
            for (int i = 0; i < 12; i++) {
                int q = id++;
                send(frontend.query(now, q, "A", "cart.shop.svc.cluster.local."));
                send(frontend.response(now + 1, q, "A", "cart.shop.svc.cluster.local.", i == 0 ? 3 : 0, 1));
            }
            pass(Duration.ofSeconds(10));
        }
        assertThat(insightsOf(InsightKind.NXDOMAIN_SPIKE)).isEmpty();
        for (int i = 0; i < 12; i++) {
            int q = id++;
            send(frontend.query(now, q, "A", "crat.shop.svc.cluster.local."));
            send(frontend.response(now + 1, q, "A", "crat.shop.svc.cluster.local.", 3, 1));
        }
        pass(Duration.ofSeconds(10));
        List<DnsInsight> found = insightsOf(InsightKind.NXDOMAIN_SPIKE);
        assertThat(found).hasSize(1);
        assertThat(found.get(0).getValue()).isEqualTo(1.0);
        assertThat(found.get(0).getEvidenceList()).containsExactly("crat.shop.svc.cluster.local. NXDOMAIN x12");
    }

    @Test
    void highLatencyAgainstThePodsOwnBaselineAndThePercentilesOfEachWindow() {
        for (int w = 0; w < 5; w++) {
            for (int i = 0; i < 20; i++) {
                int q = id++;
                send(frontend.query(now, q, "A", "cart.shop.svc.cluster.local."));
                send(frontend.response(now + 1, q, "A", "cart.shop.svc.cluster.local.", 0, w < 4 ? 2 : 40 + i * 5));
            }
            pass(Duration.ofSeconds(10));
        }
        List<DnsInsight> found = insightsOf(InsightKind.HIGH_LATENCY);
        assertThat(found).hasSize(1);
        // p95 of 40, 45, ..., 135 is 130; the histogram reports its bucket's bound, at most 25 % above
        assertThat(found.get(0).getValue()).isBetween(130.0, 130.0 * 1.25);
        List<DnsClientStats> windows = stats.readValuesToList();
        assertThat(windows).hasSize(5);
        DnsClientStats last = windows.get(4);
        assertThat(last.getQueries()).isEqualTo(20);
        assertThat(last.getResponsesMap()).containsEntry("NOERROR", 20L);
        assertThat(last.getLatencyP50Ms()).isBetween(85.0, 85.0 * 1.25);
        assertThat(last.getLatencyP99Ms()).isBetween(135.0, 135.0 * 1.25);
        assertThat(last.getTopNames(0).getName()).isEqualTo("cart.shop.svc.cluster.local.");
        assertThat(last.getWorkload()).isEqualTo("frontend");
    }

    @Test
    void servfailAcrossPodsOfANodeIsAStormOfTheNode() {
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4b", "198.18.1.11");
        DnsFlows healthy = new DnsFlows("node-2", "shop", "cart-9f8e", "198.18.1.12");
        for (DnsFlows pod : List.of(frontend, cart, healthy)) {
            for (int i = 0; i < 6; i++) {
                int q = id++;
                send(pod.query(now, q, "A", "api.example.com."));
                send(pod.response(now + 1, q, "A", "api.example.com.", pod == healthy ? 0 : 2, 1));
            }
        }
        pass(Duration.ofSeconds(11));
        List<DnsInsight> found = insightsOf(InsightKind.SERVFAIL_STORM);
        assertThat(found).isNotEmpty();
        DnsInsight storm = found.get(found.size() - 1);
        assertThat(storm.getNodeName()).isEqualTo("node-1");
        assertThat(storm.getValue()).isEqualTo(2);
        assertThat(storm.getEvidenceList()).anyMatch(e -> e.startsWith("shop/cart-5c4b: 6 SERVFAIL"));

        // The node's pods go quiet: no window says the storm is over; window + resolve-after (40 s
        // here) without one arriving does.
        pass(Duration.ofSeconds(25));
        assertThat(insightsOf(InsightKind.SERVFAIL_STORM)).isEmpty();
        pass(Duration.ofSeconds(20));
        assertThat(insightsOf(InsightKind.SERVFAIL_STORM)).singleElement().satisfies(resolved -> {
            assertThat(resolved.getId()).isEqualTo(storm.getId());
            assertThat(resolved.getResolved()).isTrue();
        });
    }

    @Test
    void aRecordThatIsNoFlowGoesToTheDeadLetterTopicAndTheStreamCarriesOn() {
        flows.pipeInput("node-1", new byte[] {(byte) 0xff, 0x01, 0x02});
        TestOutputTopic<String, byte[]> dead = driver.createOutputTopic(CATALOGUE.name(TopicId.DEAD_LETTER),
                Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        TestRecord<String, byte[]> record = dead.readRecord();
        assertThat(record.value()).containsExactly((byte) 0xff, 0x01, 0x02);
        assertThat(DeadLetter.header(record.headers(), DeadLetter.REASON)).startsWith("not a weir.flow.v1.Flow");
        assertThat(DeadLetter.header(record.headers(), DeadLetter.ORIGINAL_TOPIC)).isEqualTo(CATALOGUE.name(TopicId.FLOWS));
        send(frontend.droppedQuery(now, "NetworkPolicy/shop/lockdown"));
        assertThat(insightsOf(InsightKind.BLOCKED_BY_POLICY)).hasSize(1);
    }

    /** One second of a burst: {@code answered} queries answered, then {@code refused} REFUSED. */
    private void burst(DnsFlows pod, int answered, int refused) {
        for (int k = 0; k < answered + refused; k++) {
            int q = id++;
            send(pod.query(now + k, q, "A", "cart.shop.svc.cluster.local."));
            send(pod.response(now + k + 1, q, "A", "cart.shop.svc.cluster.local.", k < answered ? 0 : 5, 1));
        }
    }

    @Test
    void aResolverThatAnswersPartOfEachBurstAndRefusesTheRestIsARateLimitWithTheLimitItHit() {
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4f", "198.18.1.11");
        for (int second = 0; second < 3; second++) {
            burst(cart, 4, 6);
            now += 1000;
        }
        pass(Duration.ofSeconds(11));
        List<DnsInsight> found = insightsOf(InsightKind.RATE_LIMITED);
        assertThat(found).singleElement().satisfies(insight -> {
            assertThat(insight.getPodName()).isEqualTo("cart-5c4f");
            assertThat(insight.getValue()).isEqualTo(4.0);
            assertThat(insight.getSummary()).contains("18 refused").contains("about 4 queries a second");
            assertThat(insight.getEvidenceList()).singleElement().asString().contains("18 REFUSED")
                    .contains("in 3 second(s)");
            assertThat(insight.getSuggestedFix()).contains("NodeLocal DNSCache");
        });
        // A quiet window later, the finding resolves.
        pass(Duration.ofSeconds(31));
        assertThat(insights.readValuesToList()).anySatisfy(i -> assertThat(i.getResolved()).isTrue());
    }

    @Test
    void aNameThatIsAlwaysRefusedIsNoRateLimit() {
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4f", "198.18.1.11");
        for (int second = 0; second < 3; second++) {
            burst(cart, 0, 6); // refused every time: a zone the resolver will not serve, not a limit
            now += 1000;
        }
        pass(Duration.ofSeconds(11));
        assertThat(insightsOf(InsightKind.RATE_LIMITED)).isEmpty();
    }

    /** One second: each name asked once, answered or refused (REFUSED) as given. */
    private void second(DnsFlows pod, List<String> answered, List<String> refused) {
        int k = 0;
        for (String name : answered) {
            int q = id++;
            send(pod.query(now + k, q, "A", name));
            send(pod.response(now + k++ + 1, q, "A", name, 0, 1));
        }
        for (String name : refused) {
            int q = id++;
            send(pod.query(now + k, q, "A", name));
            send(pod.response(now + k++ + 1, q, "A", name, 5, 1));
        }
    }

    @Test
    void oneNameRefusedEveryTimeBesideAnsweredNamesIsNoRateLimit() {
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4f", "198.18.1.11");
        for (int s = 0; s < 3; s++) {
            second(cart, List.of("a.example.", "b.example.", "c.example."), List.of("broken.example.", "broken.example."));
            now += 1000;
        }
        pass(Duration.ofSeconds(11));
        assertThat(insightsOf(InsightKind.RATE_LIMITED)).isEmpty();
    }

    @Test
    void distinctNamesRefusedOnlyInTheBusiestSecondsAreARateLimit() {
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4f", "198.18.1.11");
        int n = 0;
        for (int s = 0; s < 4; s++) {
            List<String> answered = new java.util.ArrayList<>();
            List<String> refused = new java.util.ArrayList<>();
            for (int k = 0; k < (s % 2 == 0 ? 3 : 10); k++) { // quiet seconds of 3, bursts of 10 over a limit of 4
                (s % 2 == 1 && k >= 4 ? refused : answered).add("n" + n++ + ".example.");
            }
            second(cart, answered, refused);
            now += 1000;
        }
        pass(Duration.ofSeconds(11));
        assertThat(insightsOf(InsightKind.RATE_LIMITED)).singleElement()
                .satisfies(insight -> assertThat(insight.getValue()).isEqualTo(4.0));
    }

    @Test
    void aStormInABacklogIsNotResolvedWhileItsWindowsKeepArriving() {
        now -= Duration.ofMinutes(10).toMillis(); // flows ten minutes old, caught up now
        DnsFlows cart = new DnsFlows("node-1", "shop", "cart-5c4b", "198.18.1.11");
        for (DnsFlows pod : List.of(frontend, cart)) {
            for (int i = 0; i < 6; i++) {
                int q = id++;
                send(pod.query(now, q, "A", "api.example.com."));
                send(pod.response(now + 1, q, "A", "api.example.com.", 2, 1));
            }
        }
        pass(Duration.ofSeconds(11));
        List<DnsInsight> raised = insightsOf(InsightKind.SERVFAIL_STORM);
        assertThat(raised).isNotEmpty().noneMatch(DnsInsight::getResolved);
        pass(Duration.ofSeconds(25)); // windows arrived 25 s ago: not quiet yet, however old their times
        assertThat(insightsOf(InsightKind.SERVFAIL_STORM)).isEmpty();
        pass(Duration.ofSeconds(20));
        assertThat(insightsOf(InsightKind.SERVFAIL_STORM)).singleElement().satisfies(i -> assertThat(i.getResolved()).isTrue());
    }

    @Test
    void twoClientsOfANodeRateLimitedTogetherAreTheNodesLimit() {
        DnsFlows cart = new DnsFlows("node-4", "shop", "cart-5c4f", "198.18.1.11");
        DnsFlows web = new DnsFlows("node-4", "shop", "web-8d7e", "198.18.1.12");
        for (int second = 0; second < 2; second++) {
            burst(cart, 3, 4);
            burst(web, 2, 4);
            now += 1000;
        }
        pass(Duration.ofSeconds(11));
        assertThat(insightsOf(InsightKind.RATE_LIMITED)).anySatisfy(insight -> {
            assertThat(insight.getId()).contains("node/node-4");
            assertThat(insight.getValue()).isEqualTo(5.0);
            assertThat(insight.getSummary()).contains("2 DNS clients on node node-4");
        });
    }

    /**
     * Lookups of api.example.com. from one socket, 100 ms apart: A and AAAA asked together (or the
     * AAAA once the A is answered, as glibc may), the A answered, the AAAA only where asked to.
     */
    private void pairs(int lookups, boolean aaaaAfterAnswer, java.util.function.IntPredicate aaaaAnswered) {
        for (int lookup = 0; lookup < lookups; lookup++) {
            int a = id++;
            int aaaa = id++;
            long aaaaAsked = aaaaAfterAnswer ? now + 1 : now;
            send(frontend.query(now, a, "A", "api.example.com."));
            if (!aaaaAfterAnswer) {
                send(frontend.query(aaaaAsked, aaaa, "AAAA", "api.example.com."));
            }
            send(frontend.response(now + 1, a, "A", "api.example.com.", 0, 1));
            if (aaaaAfterAnswer) {
                send(frontend.query(aaaaAsked, aaaa, "AAAA", "api.example.com."));
            }
            if (aaaaAnswered.test(lookup)) {
                send(frontend.response(aaaaAsked + 1, aaaa, "AAAA", "api.example.com.", 0, 1));
            }
            now += 100;
        }
    }

    @Test
    void anAaaaLostWhileItsATwinFromTheSameSocketWasAnsweredIsTheRaceWithItsFix() {
        pairs(6, false, lookup -> lookup % 3 != 0); // two of six AAAA lost
        pass(Duration.ofSeconds(6));
        List<DnsInsight> found = insightsOf(InsightKind.A_AAAA_RACE);
        assertThat(found).isNotEmpty();
        DnsInsight race = found.get(found.size() - 1);
        assertThat(race.getValue()).isEqualTo(2.0);
        assertThat(race.getEvidenceList()).allSatisfy(e -> assertThat(e).startsWith("AAAA api.example.com. from port")
                .contains("its A twin from the same socket was answered"));
        assertThat(race.getSuggestedFix()).contains("single-request-reopen").contains("NodeLocal DNSCache")
                .contains("search domains");
    }

    @Test
    void aPairLostWholeIsTimeoutsNotTheRace() {
        for (int lookup = 0; lookup < 2; lookup++) {
            send(frontend.query(now, id++, "A", "api.example.com."));
            send(frontend.query(now, id++, "AAAA", "api.example.com."));
            now += 100;
        }
        pass(Duration.ofSeconds(6));
        List<DnsInsight> all = insights.readValuesToList();
        assertThat(all).anySatisfy(i -> assertThat(i.getKind()).isEqualTo(InsightKind.TIMEOUTS));
        assertThat(all).noneSatisfy(i -> assertThat(i.getKind()).isEqualTo(InsightKind.A_AAAA_RACE));
    }

    @Test
    void queriesExpiringAfterTheirWindowClosedStillNameThePod() {
        pass(Duration.ofSeconds(8));
        send(frontend.query(now, id++, "A", "db.shop.svc.cluster.local."));
        send(frontend.query(now, id++, "AAAA", "db.shop.svc.cluster.local."));
        pass(Duration.ofSeconds(3)); // the window closes; the queries wait on
        pass(Duration.ofSeconds(3)); // and expire, in a window opened by time alone
        assertThat(insightsOf(InsightKind.TIMEOUTS)).isNotEmpty().allSatisfy(insight -> {
            assertThat(insight.getNamespace()).isEqualTo("shop");
            assertThat(insight.getPodName()).isEqualTo("frontend-7d9f");
            assertThat(insight.getSummary()).contains("pod shop/frontend-7d9f");
        });
    }

    @Test
    void anAaaaAskedJustAfterItsATwinWasAnsweredIsStillOneOfThePair() {
        // glibc may send the AAAA once the A is answered, from the same socket.
        pairs(6, true, lookup -> lookup % 3 != 0);
        pass(Duration.ofSeconds(6));
        assertThat(insightsOf(InsightKind.A_AAAA_RACE)).isNotEmpty();
    }

    @Test
    void halvesLostAtTheEndOfAWindowAreJudgedOverTheRecentLookupsNotTheNextWindow() {
        pass(Duration.ofSeconds(7)); // the lookups late in a window: their AAAA expire in the next one, still empty
        pairs(6, false, lookup -> lookup % 3 != 0);
        pass(Duration.ofSeconds(6));
        assertThat(insightsOf(InsightKind.A_AAAA_RACE)).isNotEmpty();
    }

    @Test
    void aResolverThatNeverAnswersAaaaIsTimeoutsNotTheRace() {
        // Every pair loses its AAAA: a resolver or firewall that drops them, not a race now and then.
        pairs(4, false, lookup -> false);
        pass(Duration.ofSeconds(6));
        List<DnsInsight> all = insights.readValuesToList();
        assertThat(all).anySatisfy(i -> assertThat(i.getKind()).isEqualTo(InsightKind.TIMEOUTS));
        assertThat(all).noneSatisfy(i -> assertThat(i.getKind()).isEqualTo(InsightKind.A_AAAA_RACE));
    }
}
