package dev.weir.policy.model;

import java.util.Map;
import java.util.Set;

/**
 * What one endpoint's datapath must hold: whether it is isolated in each direction, its policy
 * map, and which policies the entries came from.
 */
public record EndpointPolicy(boolean ingressIsolated, boolean egressIsolated, Map<MapKey, MapEntry> entries,
        Set<String> policies, java.util.List<MapKey> ranges) {

    public static final EndpointPolicy UNSELECTED = new EndpointPolicy(false, false, Map.of(), Set.of());

    /** @param ranges the keys of entries that cover a port range, derived from entries (for lookups) */
    public EndpointPolicy {
        entries = Map.copyOf(entries);
        policies = Set.copyOf(policies);
        ranges = java.util.List.copyOf(ranges);
    }

    public EndpointPolicy(boolean ingressIsolated, boolean egressIsolated, Map<MapKey, MapEntry> entries,
            Set<String> policies) {
        this(ingressIsolated, egressIsolated, entries, policies,
                entries.keySet().stream().filter(MapKey::range).toList());
    }
}
