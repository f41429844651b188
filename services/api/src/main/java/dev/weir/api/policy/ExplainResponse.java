package dev.weir.api.policy;

/** The verdict on a connection, with the egress and the ingress side. */
public record ExplainResponse(String verdict, ExplainSide egress, ExplainSide ingress) {
}
