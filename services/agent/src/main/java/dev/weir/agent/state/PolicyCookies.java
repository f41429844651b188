package dev.weir.agent.state;

import dev.weir.agent.flow.FlowBuilder;
import dev.weir.proto.flow.v1.PolicyRef;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.PolicyRevisionRef;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Which policy each cookie of each endpoint's map stands for, as the applied state said. */
public final class PolicyCookies implements FlowBuilder.PolicyLookup {

    private final Map<Integer, Map<Integer, PolicyRef>> byEndpoint = new ConcurrentHashMap<>();

    void applied(EndpointPolicyState state) {
        Map<Integer, PolicyRef> cookies = new HashMap<>();
        for (PolicyRevisionRef policy : state.getPoliciesList()) {
            for (int cookie : policy.getCookiesList()) {
                cookies.put(cookie, PolicyRef.newBuilder().setName(policy.getName()).setNamespace(policy.getNamespace())
                        .setKind(policy.getKind()).setRevision(policy.getRevision()).setCookie(cookie).build());
            }
        }
        byEndpoint.put(state.getEndpointId(), Map.copyOf(cookies));
    }

    @Override
    public Optional<PolicyRef> policy(int endpointId, int cookie) {
        Map<Integer, PolicyRef> cookies = byEndpoint.get(endpointId);
        return cookies == null ? Optional.empty() : Optional.ofNullable(cookies.get(cookie));
    }
}
