package dev.weir.policy.model;

import java.util.Map;
import java.util.Set;

/**
 * What one endpoint's datapath must hold: whether it is isolated in each direction, its policy
 * map, and which policies the entries came from.
 */
public record EndpointPolicy(boolean ingressIsolated, boolean egressIsolated, Map<MapKey, MapEntry> entries,
        Set<String> policies) {

    public static final EndpointPolicy UNSELECTED = new EndpointPolicy(false, false, Map.of(), Set.of());

    public EndpointPolicy {
        entries = Map.copyOf(entries);
        policies = Set.copyOf(policies);
    }
}
