package dev.weir.api.policy;

import java.time.Instant;

/** A connection a staged policy would drop: its flows since the staging, first and last seen. */
public record StagedDrop(String source, String destination, int port, String protocol, long flows, Instant firstSeen,
        Instant lastSeen) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public StagedDrop {
        source = source == null ? "" : source;
        destination = destination == null ? "" : destination;
        protocol = protocol == null ? "" : protocol;
    }
}
