package dev.weir.policy.model;

import dev.weir.policy.model.MapKey.Direction;

/**
 * The datapath's decision for a connection's first packet, on compiled map contents: the same
 * six lookups, in the same order, as bpf/lib/policy.h. Used by the conformance runner, explain
 * and impact previews, so they judge exactly as the kernel will.
 */
public final class Verdicts {

    private Verdicts() {
    }

    public enum Match { L3_L4, L3_ONLY, L4_ONLY, ALL, NOT_ISOLATED, NONE }

    /** The outcome at one enforcement point: allowed or not, which entry decided, and how. */
    public record Decision(boolean allowed, boolean denyEntry, Match match, MapKey key, MapEntry entry) {
    }

    public static Decision decide(EndpointPolicy endpoint, int remote, int port, int protocol, Direction direction) {
        MapKey[] candidates = {
            new MapKey(remote, port, protocol, direction),
            new MapKey(remote, 0, protocol, direction),
            new MapKey(remote, 0, 0, direction),
            new MapKey(Identity.ANY, port, protocol, direction),
            new MapKey(Identity.ANY, 0, protocol, direction),
            new MapKey(Identity.ANY, 0, 0, direction),
        };
        Match[] matches = {Match.L3_L4, Match.L3_ONLY, Match.L3_ONLY, Match.L4_ONLY, Match.L4_ONLY, Match.ALL};
        int allowed = -1;
        for (int i = 0; i < candidates.length; i++) {
            MapEntry entry = endpoint.entries().get(candidates[i]);
            if (entry == null) {
                continue;
            }
            if (entry.deny()) {
                return new Decision(false, true, matches[i], candidates[i], entry);
            }
            if (allowed < 0) {
                allowed = i;
            }
        }
        if (allowed >= 0) {
            return new Decision(true, false, matches[allowed], candidates[allowed], endpoint.entries().get(candidates[allowed]));
        }
        boolean isolated = direction == Direction.INGRESS ? endpoint.ingressIsolated() : endpoint.egressIsolated();
        return new Decision(!isolated, false, isolated ? Match.NONE : Match.NOT_ISOLATED, null, null);
    }

    /** Both enforcement points of a pod-to-pod connection: the source's egress, the destination's ingress. */
    public record PathDecision(Decision egress, Decision ingress) {
        public boolean allowed() {
            return egress.allowed() && ingress.allowed();
        }
    }

    public static PathDecision decide(Compilation compiled, String sourcePod, String sourceIp, String destinationPod,
            String destinationIp, int port, Protocol protocol) {
        Decision egress = sourcePod == null
                ? new Decision(true, false, Match.NOT_ISOLATED, null, null)
                : decide(compiled.endpoint(sourcePod), compiled.identityOf(destinationIp), port, protocol.number(),
                        Direction.EGRESS);
        Decision ingress = destinationPod == null
                ? new Decision(true, false, Match.NOT_ISOLATED, null, null)
                : decide(compiled.endpoint(destinationPod), compiled.identityOf(sourceIp), port, protocol.number(),
                        Direction.INGRESS);
        return new PathDecision(egress, ingress);
    }
}
