package dev.weir.api.policy;

import java.util.List;

/** GET .../status: on how many of the endpoints it selects the policy is enforced. */
public record PolicyStatus(String kind, String namespace, String name, long revision, int endpoints, int enforced, List<String> nodesBehind, List<EndpointStatus> details) {
}
