package dev.weir.common.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.IP;
import dev.weir.proto.flow.v1.Layer4;
import dev.weir.proto.flow.v1.TCP;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.observer.v1.FlowFilter;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlowFiltersTest {

    static final Flow DROP = Flow.newBuilder().setNodeName("node-1").setVerdict(Verdict.DROPPED)
            .setDropReason(DropReason.POLICY_DENY).setTrafficDirection(TrafficDirection.INGRESS)
            .setSource(Endpoint.newBuilder().setNamespace("shop").setPodName("frontend-7d9").setIdentity(1001)
                    .addLabels("app=frontend"))
            .setDestination(Endpoint.newBuilder().setNamespace("payments").setPodName("api-0").setIdentity(1003))
            .setIp(IP.newBuilder().setSource("198.18.1.10").setDestination("198.18.2.10"))
            .setL4(Layer4.newBuilder().setTcp(TCP.newBuilder().setSourcePort(40000).setDestinationPort(9090)))
            .build();

    static final Flow DNS = Flow.newBuilder().setNodeName("node-2").setVerdict(Verdict.FORWARDED)
            .setDns(Dns.newBuilder().setQuery("cart.shop.svc.cluster.local.")).build();

    @Test
    void everyFieldOfAFilterMustMatchAndValuesOfAFieldAreAlternatives() {
        FlowFilter filter = FlowFilter.newBuilder().addSourcePod("shop/frontend").addVerdict(Verdict.DROPPED)
                .addDestinationPort("80").addDestinationPort("9090").build();
        assertThat(FlowFilters.matches(DROP, filter)).isTrue();
        assertThat(FlowFilters.matches(DROP, filter.toBuilder().addDropReasonDesc(DropReason.POLICY_DENIED).build()))
                .isFalse();
        assertThat(FlowFilters.matches(DROP, filter.toBuilder().clearDestinationPort().addDestinationPort("80").build()))
                .isFalse();
    }

    @Test
    void podsNamespacesLabelsIdentitiesAndCidrs() {
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addSourcePod("shop/").build())).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addSourcePod("payments/").build())).isFalse();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addSourceLabel("app=frontend").build())).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addDestinationIdentity(1003).build())).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addDestinationIp("198.18.2.0/24").build())).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addDestinationIp("198.18.1.0/24").build())).isFalse();
        // A name is never resolved: a client's filter does not make the relay ask DNS.
        assertThat(FlowFilters.inPrefix("198.18.2.10", "localhost/8")).isFalse();
        assertThat(FlowFilters.inPrefix("198.18.2.10", "198.18.0.0/99")).isFalse();
        assertThat(FlowFilters.inPrefix("2001:db8::1", "2001:db8::/32")).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addProtocol("TCP").build())).isTrue();
    }

    @Test
    void dnsQueriesAndNodesTakeWildcards() {
        assertThat(FlowFilters.matches(DNS, FlowFilter.newBuilder().addDnsQuery("*.shop.svc.cluster.local").build())).isTrue();
        assertThat(FlowFilters.matches(DNS, FlowFilter.newBuilder().addDnsQuery("*.payments.*").build())).isFalse();
        assertThat(FlowFilters.matches(DNS, FlowFilter.newBuilder().addNodeName("node-*").build())).isTrue();
        assertThat(FlowFilters.matches(DROP, FlowFilter.newBuilder().addDnsQuery("*").build())).isFalse();
    }

    @Test
    void wildcardsMatchAsGlobsDo() {
        assertThat(FlowFilters.wildcard("a*b*c", "abc")).isTrue();
        assertThat(FlowFilters.wildcard("a*b*c", "axxbyyc")).isTrue();
        assertThat(FlowFilters.wildcard("a*b*c", "acb")).isFalse();
        assertThat(FlowFilters.wildcard("ab*ba", "aba")).as("prefix and suffix may not overlap").isFalse();
        assertThat(FlowFilters.wildcard("ab*ba", "abba")).isTrue();
        assertThat(FlowFilters.wildcard("*aa*aa*", "aaa")).isFalse();
        assertThat(FlowFilters.wildcard("*aa*aa*", "aaaa")).isTrue();
        assertThat(FlowFilters.wildcard("**", "")).isTrue();
        assertThat(FlowFilters.wildcard("NODE-*.", "node-1")).as("case and a trailing dot are ignored").isTrue();
        assertThat(FlowFilters.wildcard("*x", "node-1")).isFalse();
    }

    @Test
    void aPathologicalWildcardIsAnsweredWithoutBacktracking() {
        // A backtracking regex takes exponential time on this; the glob walks the value once per part.
        String stars = "*".repeat(24) + "#";
        String value = "n".repeat(10_000);
        for (int i = 0; i < 10_000; i++) {
            assertThat(FlowFilters.wildcard(stars, value)).isFalse();
        }
        assertThat(FlowFilters.wildcard("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(5000))).isFalse();
    }

    @Test
    void whitelistIsAnyAndBlacklistIsNone() {
        FlowFilter drops = FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
        FlowFilter node2 = FlowFilter.newBuilder().addNodeName("node-2").build();
        assertThat(FlowFilters.passes(DROP, List.of(drops, node2), List.of())).isTrue();
        assertThat(FlowFilters.passes(DNS, List.of(drops, node2), List.of())).isTrue();
        assertThat(FlowFilters.passes(DNS, List.of(), List.of(node2))).isFalse();
        assertThat(FlowFilters.passes(DROP, List.of(), List.of())).isTrue();
    }
}
