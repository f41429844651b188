package dev.weir.agent.flow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.proto.flow.v1.Endpoint;
import org.junit.jupiter.api.Test;

/** Each DNS message counted once: by the observation point that owns it. */
class DnsOwnershipTest {

    static final Endpoint POD = Endpoint.newBuilder().setNamespace("shop").setPodName("frontend-1").build();

    @Test
    void theClientsSideOwnsItsQueriesAndAnswers() {
        assertThat(FlowBuilder.ownsDnsMessage(true, POD)).isTrue();
    }

    @Test
    void theResolversSideOfAPodsMessageDoesNotCountItAgain() {
        // Also when the answer reaches the client from a Service's address: the client's side counted it.
        assertThat(FlowBuilder.ownsDnsMessage(false, POD)).isFalse();
    }

    @Test
    void aClientThatIsNoPodIsCountedAtTheResolversSide() {
        assertThat(FlowBuilder.ownsDnsMessage(false, Endpoint.getDefaultInstance())).isTrue();
    }
}
