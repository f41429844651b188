package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.flow.v1.Dns;
import org.junit.jupiter.api.Test;

class AgentMetricsTest {

    @Test
    void aQueryTypeAPodMakesUpIsCountedAsOther() {
        assertThat(AgentMetrics.qtype(Dns.newBuilder().addQtypes("TYPE12345").build())).isEqualTo("OTHER");
        assertThat(AgentMetrics.qtype(Dns.newBuilder().addQtypes("AAAA").build())).isEqualTo("AAAA");
        assertThat(AgentMetrics.qtype(Dns.getDefaultInstance())).isEmpty();
    }

    @Test
    void theAddressesInAnAnswerAreABoundedLabel() {
        assertThat(AgentMetrics.ipsReturned(0)).isEqualTo("0");
        assertThat(AgentMetrics.ipsReturned(3)).isEqualTo("3");
        assertThat(AgentMetrics.ipsReturned(10)).isEqualTo("10+");
        assertThat(AgentMetrics.ipsReturned(4000)).isEqualTo("10+");
    }
}
