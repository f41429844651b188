package dev.weir.api.policy;

/** A connection seen in the recorded flows whose verdict the previewed policies change. */
public record PreviewChange(String source, String destination, int port, String protocol, String before, String after, long flows) {
}
