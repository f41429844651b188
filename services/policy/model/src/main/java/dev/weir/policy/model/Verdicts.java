package dev.weir.policy.model;

import dev.weir.policy.model.MapKey.Direction;
import java.util.ArrayList;
import java.util.List;

/**
 * The datapath's decision for a connection's first packet, on compiled map contents, with the
 * same outcome as bpf/lib/policy.h's two longest-prefix lookups (the remote identity's, any
 * identity's): a covering deny wins, then the most specific allow. Used by the conformance runner, explain
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
        // From the most to the least specific: the remote identity's entries, then any identity's.
        List<MapKey> candidates = new ArrayList<>(8);
        List<Match> matches = new ArrayList<>(8);
        for (int identity : new int[] {remote, Identity.ANY}) {
            boolean any = identity == Identity.ANY;
            int before = candidates.size();
            if (port != 0) {
                candidates.add(new MapKey(identity, port, protocol, direction));
                endpoint.ranges().stream().filter(k -> k.covers(identity, port, protocol, direction))
                        .sorted(java.util.Comparator.comparingInt(MapKey::width)).forEach(candidates::add);
            }
            for (int i = before; i < candidates.size(); i++) {
                matches.add(any ? Match.L4_ONLY : Match.L3_L4);
            }
            candidates.add(new MapKey(identity, 0, protocol, direction));
            candidates.add(new MapKey(identity, 0, 0, direction));
            matches.add(any ? Match.ALL : Match.L3_ONLY);
            matches.add(any ? Match.ALL : Match.L3_ONLY);
        }
        // A deny that covers the packet wins over every allow (the agent keeps no allow inside a
        // deny's range, so the datapath's longest-prefix lookups find it too).
        int allowed = -1;
        for (int i = 0; i < candidates.size(); i++) {
            MapEntry entry = endpoint.entries().get(candidates.get(i));
            if (entry == null) {
                continue;
            }
            if (entry.deny()) {
                return new Decision(false, true, matches.get(i), candidates.get(i), entry);
            }
            if (allowed < 0) {
                allowed = i;
            }
        }
        if (allowed >= 0) {
            return new Decision(true, false, matches.get(allowed), candidates.get(allowed),
                    endpoint.entries().get(candidates.get(allowed)));
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

    /**
     * As below, for pods of a cluster whose nodes are known: an address of a pod's own node is
     * the host to that pod's datapath (its agent writes HOST for it, remote-node for the others').
     */
    public static PathDecision decide(Compilation compiled, Cluster cluster, Cluster.Pod source, String sourceIp,
            Cluster.Pod destination, String destinationIp, int port, Protocol protocol) {
        Decision egress = source == null
                ? new Decision(true, false, Match.NOT_ISOLATED, null, null)
                : decide(compiled.endpoint(source.key()), remoteIdentity(compiled, cluster, source, destinationIp), port,
                        protocol.number(), Direction.EGRESS);
        Decision ingress = destination == null
                ? new Decision(true, false, Match.NOT_ISOLATED, null, null)
                : decide(compiled.endpoint(destination.key()), remoteIdentity(compiled, cluster, destination, sourceIp), port,
                        protocol.number(), Direction.INGRESS);
        return new PathDecision(egress, ingress);
    }

    /** The identity a pod's datapath gives a remote address. */
    public static int remoteIdentity(Compilation compiled, Cluster cluster, Cluster.Pod local, String remoteIp) {
        int identity = compiled.identityOf(remoteIp);
        if (identity == Identity.REMOTE_NODE && cluster.nodes().getOrDefault(local.node(), List.of()).contains(remoteIp)) {
            return Identity.HOST;
        }
        return identity;
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
