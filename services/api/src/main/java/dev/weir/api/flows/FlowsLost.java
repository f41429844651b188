package dev.weir.api.flows;

/** A line of GET /api/v1/flows/follow saying this follower lost flows (it read too slowly). */
public record FlowsLost(long lost) {
}
