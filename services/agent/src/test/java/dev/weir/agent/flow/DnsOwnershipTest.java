package dev.weir.agent.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.flow.v1.Endpoint;
import org.junit.jupiter.api.Test;

/** Each DNS message counted once: by the observation point that owns it. */
class DnsOwnershipTest {

    static final Endpoint POD = Endpoint.newBuilder().setNamespace("shop").setPodName("frontend-1").build();

    @Test
    void theSendersEgressOwnsAMessage() {
        assertThat(FlowBuilder.ownsDnsMessage(true, POD)).isTrue();
    }

    @Test
    void aMessageFromAPodArrivingAtAPodWasCountedWhereItLeft() {
        assertThat(FlowBuilder.ownsDnsMessage(false, POD)).isFalse();
    }

    @Test
    void aMessageFromOutsideTheClusterIsCountedWhereItArrives() {
        assertThat(FlowBuilder.ownsDnsMessage(false, Endpoint.getDefaultInstance())).isTrue();
    }
}
