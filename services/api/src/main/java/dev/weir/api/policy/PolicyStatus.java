package dev.weir.api.policy;

import java.util.List;

/**
 * GET .../status: on how many of the endpoints it selects the policy is enforced (revision 0 when
 * it is not), and, when a revision of it is staged, what that would drop.
 *
 * @param settled the revision (or the one waited for) is compiled and published, and every
 *                endpoint holding it has answered: acked it, refused it, or Kafka refused its state;
 *                false while that is still under way (0 of 0 endpoints may mean either)
 */
public record PolicyStatus(String kind, String namespace, String name, long revision, int endpoints, int enforced,
        List<String> nodesBehind, List<EndpointStatus> details, StagedStatus staged, boolean settled) {
    /** Absent lists, maps and texts read as empty: an older or newer peer may leave them out. */
    public PolicyStatus {
        kind = kind == null ? "" : kind;
        namespace = namespace == null ? "" : namespace;
        name = name == null ? "" : name;
        nodesBehind = nodesBehind == null ? List.of() : List.copyOf(nodesBehind);
        details = details == null ? List.of() : List.copyOf(details);
    }
}
