package dev.weir.api.policy;

import java.time.Instant;
import java.util.List;

/**
 * A suggested rule and its evidence: the direction and field ("spec.egress[2]"), the peer, the
 * ports ("8080/TCP", "grpc/TCP"), and the flows seen, first and last (absent for a rule every
 * suggestion carries, such as DNS to the resolver from the resolver's clients).
 */
public record SuggestedRule(String field, String peer, List<String> ports, long flows, Instant firstSeen, Instant lastSeen) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public SuggestedRule {
        field = field == null ? "" : field;
        peer = peer == null ? "" : peer;
        ports = ports == null ? List.of() : List.copyOf(ports);
    }
}
