package dev.weir.agent.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Flow;
import org.junit.jupiter.api.Test;

/** The one-line summaries of DNS flows, as an operator reads them. */
class FlowSummaryTest {

    @Test
    void aQueryShowsTheNameAndType() {
        assertThat(FlowBuilder.summary(Flow.newBuilder().setDns(Dns.newBuilder().setQuery("cart.shop.svc.cluster.local.")
                .addQtypes("A")))).isEqualTo("DNS Query cart.shop.svc.cluster.local. A");
    }

    @Test
    void anAnswerShowsItsRcodeByNameAndWhatItAnswered() {
        assertThat(FlowBuilder.summary(Flow.newBuilder().setDns(Dns.newBuilder().setQuery("no-such-service.shop.svc.cluster.local.")
                .addQtypes("A").setIsResponse(true).setRcode(3))))
                .isEqualTo("DNS Answer no-such-service.shop.svc.cluster.local. A NXDOMAIN");
        assertThat(FlowBuilder.summary(Flow.newBuilder().setDns(Dns.newBuilder().setQuery("api.payments.svc.cluster.local.")
                .addQtypes("A").setIsResponse(true).setRcode(0).addIps("198.18.2.10").addIps("198.18.2.11").setTtl(30))))
                .isEqualTo("DNS Answer api.payments.svc.cluster.local. A NOERROR 198.18.2.10,198.18.2.11 TTL 30");
        assertThat(FlowBuilder.summary(Flow.newBuilder().setDns(Dns.newBuilder().setQuery("x.")
                .setIsResponse(true).setRcode(12)))).isEqualTo("DNS Answer x. RCODE12");
        Dns.Builder many = Dns.newBuilder().setQuery("big.").setIsResponse(true).setTtl(5);
        for (int i = 1; i <= 6; i++) {
            many.addIps("198.18.3." + i);
        }
        assertThat(FlowBuilder.summary(Flow.newBuilder().setDns(many)))
                .isEqualTo("DNS Answer big. NOERROR 198.18.3.1,198.18.3.2,198.18.3.3,198.18.3.4 +2 TTL 5");
    }
}
