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
    private final Map<Integer, java.util.List<PolicyRef>> isolatingIngress = new ConcurrentHashMap<>();
    private final Map<Integer, java.util.List<PolicyRef>> isolatingEgress = new ConcurrentHashMap<>();

    void applied(EndpointPolicyState state) {
        Map<Integer, PolicyRef> cookies = new HashMap<>();
        java.util.List<PolicyRef> ingress = new java.util.ArrayList<>();
        java.util.List<PolicyRef> egress = new java.util.ArrayList<>();
        for (PolicyRevisionRef policy : state.getPoliciesList()) {
            PolicyRef ref = PolicyRef.newBuilder().setName(policy.getName()).setNamespace(policy.getNamespace())
                    .setKind(policy.getKind()).setRevision(policy.getRevision()).build();
            if (policy.getIsolatesIngress()) {
                ingress.add(ref);
            }
            if (policy.getIsolatesEgress()) {
                egress.add(ref);
            }
            for (int cookie : policy.getCookiesList()) {
                cookies.put(cookie, PolicyRef.newBuilder().setName(policy.getName()).setNamespace(policy.getNamespace())
                        .setKind(policy.getKind()).setRevision(policy.getRevision()).setCookie(cookie).build());
            }
        }
        byEndpoint.put(state.getEndpointId(), Map.copyOf(cookies));
        isolatingIngress.put(state.getEndpointId(), java.util.List.copyOf(ingress));
        isolatingEgress.put(state.getEndpointId(), java.util.List.copyOf(egress));
    }

    @Override
    public java.util.List<PolicyRef> isolating(int endpointId, boolean egress) {
        return (egress ? isolatingEgress : isolatingIngress).getOrDefault(endpointId, java.util.List.of());
    }

    @Override
    public Optional<PolicyRef> policy(int endpointId, int cookie) {
        Map<Integer, PolicyRef> cookies = byEndpoint.get(endpointId);
        return cookies == null ? Optional.empty() : Optional.ofNullable(cookies.get(cookie));
    }
}
