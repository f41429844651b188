package dev.weir.alerting;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.weir.alerting.delivery.AddressGuard;
import dev.weir.alerting.delivery.Signatures;
import dev.weir.alerting.rules.InvalidRule;
import dev.weir.alerting.rules.Rule;
import dev.weir.alerting.rules.RuleParser;
import dev.weir.alerting.rules.Template;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RulesAndSignaturesTest {

    @Test
    void aRuleReadsWithItsDefaults() {
        List<Rule> rules = RuleParser.parse("""
                rules:
                  - name: Drops
                    stream: policy-drops
                    window: 1m
                    above: 10
                    groupBy: [destination_namespace]
                    for: 30s
                    annotations: {summary: "{{ $value }} drops to {{ $labels.destination_namespace }}"}
                """);
        Rule rule = rules.get(0);
        assertThat(rule.stream()).isEqualTo(Rule.Stream.POLICY_DROPS);
        assertThat(rule.aggregation()).isEqualTo(Rule.Aggregation.COUNT);
        assertThat(rule.forDuration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(rule.severity()).isEqualTo(Rule.Severity.WARNING);
        assertThat(Template.render(rule.annotations().get("summary"), Map.of("destination_namespace", "shop"), 12))
                .isEqualTo("12 drops to shop");
    }

    @Test
    void badRulesNameTheFieldAtFault() {
        assertField("rules: [{name: A, stream: packets, window: 1m, above: 1}]", "rules[0].stream", "unknown stream");
        assertField("rules: [{name: A, stream: flows, window: soon, above: 1}]", "rules[0].window", "not a duration");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1, annotations: {summary: '{{ .Value }}'}}]",
                "rules[0].annotations.summary", "neither");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1, annotations: {summary: '{{ $value '}}]",
                "rules[0].annotations.summary", "");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1, treshold: 3}]", "rules[0].treshold",
                "unknown field");
        assertField("rules: [{name: A, stream: dns-stats, aggregate: max, window: 1m, above: 1}]", "rules[0].value",
                "is required");
        assertField("rules: [{name: A, stream: dns-stats, aggregate: max, value: qps, window: 1m, above: 1}]",
                "rules[0].value", "not a value");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1, groupBy: [namespace]}]", "rules[0].groupBy[0]",
                "not a label");
        assertField("rules: [{name: A, stream: flows, window: 1m}]", "rules[0].above", "exactly one");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1}, {name: A, stream: flows, window: 1m, above: 2}]",
                "rules[1].name", "used by two");
        assertField("rules: [{name: A, stream: flows, window: 1m, above: 1", "(document)", "not valid YAML");
    }

    private static void assertField(String yaml, String field, String message) {
        assertThatThrownBy(() -> RuleParser.parse(yaml)).isInstanceOfSatisfying(InvalidRule.class, e -> {
            assertThat(e.field()).isEqualTo(field);
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void signaturesAreStandardWebhooksOnes() {
        // The test vector of the Standard Webhooks specification.
        assertThat(Signatures.header(List.of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330, "{\"test\": 2432232314}")).isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        String old = Signatures.newSecret();
        String rotated = Signatures.newSecret();
        assertThat(Signatures.header(List.of(old, rotated), "id", 1, "{}").split(" ")).hasSize(2);
        assertThat(Signatures.valid("whsec_short")).isFalse();
    }

    @Test
    void receiversInsideTheNetworkAreRefusedUnlessAllowed() {
        AddressGuard guard = new AddressGuard();
        for (String inside : List.of("http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook",
                "http://10.0.0.1/", "http://192.168.0.1/", "http://172.16.0.1/", "http://100.64.0.1/",
                "http://100.100.100.200/", "http://[fc00::1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://198.18.1.10/",
                "http://[::ffff:10.0.0.1]/", "http://0.0.0.0/", "http://[fe80::1]/", "http://224.0.0.1/",
                "http://[2002:a9fe:a9fe::1]/")) {
            assertThat(guard.refusal(inside)).as(inside).contains("refused unless");
        }
        assertThat(guard.refusal("http://metadata.google.internal/")).contains("metadata");
        assertThat(guard.refusal("http://93.184.215.14:99999/")).contains("port 99999");
        assertThat(guard.refusal("http://93.184.215.14:4245/")).contains("port 4245 is not allowed");
        assertThat(guard.refusal("http://user:pw@93.184.215.14/")).contains("user info");
        assertThat(guard.refusal("http://no-such-name.invalid/")).contains("does not resolve");
        assertThat(guard.refusal("ftp://93.184.215.14/")).contains("http");
        assertThat(guard.refusal("https://93.184.215.14/hook")).isNull();
        assertThat(guard.refusal("http://93.184.215.14:80/hook")).isNull();
        AddressGuard operator = new AddressGuard(false, List.of("10.20.0.0/16"), List.of(9093));
        assertThat(operator.refusal("http://10.20.1.2:9093/api/v2/alerts")).isNull();
        assertThat(operator.refusal("http://10.21.1.2:9093/")).contains("refused unless");
        assertThat(new AddressGuard(true, List.of(), List.of()).refusal("http://127.0.0.1:9000/hook")).isNull();
    }

    @Test
    void anIpv4MappedAnswerIsCheckedAsTheIpv4AddressASocketWouldReach() throws Exception {
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = (byte) 169;
        mapped[13] = (byte) 254;
        mapped[14] = (byte) 169;
        mapped[15] = (byte) 254;
        // As the system resolver hands over an AAAA record: an Inet6Address, not converted.
        java.net.InetAddress answer = java.net.Inet6Address.getByAddress(null, mapped, (java.net.NetworkInterface) null);
        assertThat(answer).isInstanceOf(java.net.Inet6Address.class);
        assertThat(AddressGuard.embeddedIpv4(answer).getHostAddress()).isEqualTo("169.254.169.254");
        assertThat(new AddressGuard().refusal(answer)).isNotNull();
    }

    @Test
    void matchersWhoseCountedRepeatsMultiplyBeyondTheCapAreRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> dev.weir.alerting.notify.Matcher.parse("x=~(?:(?:x{1000}){1000}){1000}"))
                .hasMessageContaining("repeats too much");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.weir.alerting.notify.Matcher.parse("x=~(a{200}){200}"))
                .hasMessageContaining("repeats too much");
        // A brace that is not a count does not hide the counts after it.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.weir.alerting.notify.Matcher.parse(
                "x=~(?:(?:(?:x[{]?){1000}[{]?){1000}[{]?){1000}")).hasMessageContaining("repeats too much");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.weir.alerting.notify.Matcher.parse(
                "x=~(?:(?:(?:x{){1000}{){1000}{){1000}")).hasMessageContaining("repeats too much");
        // Counts side by side add up: a pod-name pattern is fine.
        assertThat(dev.weir.alerting.notify.Matcher.parse("pod=~[a-z]{1,63}-[0-9a-f]{5,10}-[a-z0-9]{5}")
                .matches(java.util.Map.of("pod", "cart-7d9f8c6b5-x2k4q"))).isTrue();
        assertThat(dev.weir.alerting.notify.Matcher.parse("x=~[a-z]{3}-\\{1000\\}").matches(java.util.Map.of("x", "abc-{1000}")))
                .isTrue();
    }
}
