package dev.weir.api.policy;

/** The verdict on a connection (on the port by number, a named port resolved), with the egress and the ingress side. */
public record ExplainResponse(String verdict, int port, ExplainSide egress, ExplainSide ingress) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public ExplainResponse {
        verdict = verdict == null ? "" : verdict;
    }
}
