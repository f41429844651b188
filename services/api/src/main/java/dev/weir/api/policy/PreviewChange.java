package dev.weir.api.policy;

/** A connection seen in the recorded flows whose verdict the previewed policies change. */
public record PreviewChange(String source, String destination, int port, String protocol, String before, String after, long flows) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PreviewChange {
        source = source == null ? "" : source;
        destination = destination == null ? "" : destination;
        protocol = protocol == null ? "" : protocol;
        before = before == null ? "" : before;
        after = after == null ? "" : after;
    }
}
