package dev.weir.api.flows;

import java.util.List;

/** GET /api/v1/flows: the flows, how many records were read, and where the next page starts. */
public record FlowsResponse(List<FlowView> flows, long scanned, long undecodable, boolean truncated, String next) {
}
