package dev.weir.api.flows;

import java.util.List;

/** GET /api/v1/flows: the flows, how many records were read, and where the next page starts. */
public record FlowsResponse(List<FlowView> flows, long scanned, long undecodable, boolean truncated, String next) {
    /** Absent lists read as empty; next stays null on the last page. */
    public FlowsResponse {
        flows = flows == null ? List.of() : List.copyOf(flows);
    }
}
