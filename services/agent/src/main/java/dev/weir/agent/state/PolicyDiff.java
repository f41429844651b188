package dev.weir.agent.state;

import dev.weir.agent.datapath.MapLayout;
import dev.weir.agent.datapath.PolicyEntry;
import dev.weir.agent.datapath.PolicyKey;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.PolicyMapEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pure part of applying desired state: what an endpoint's policy map should hold, and what to
 * write and delete to get there from what it holds now.
 */
public final class PolicyDiff {

    private PolicyDiff() {
    }

    /** Entries to upsert (new or changed) and keys to delete (no longer desired). */
    public record Diff(Map<PolicyKey, PolicyEntry> upserts, List<PolicyKey> deletes) {
        public boolean empty() {
            return upserts.isEmpty() && deletes.isEmpty();
        }
    }

    public static Diff diff(Map<PolicyKey, PolicyEntry> desired, Map<PolicyKey, PolicyEntry> current) {
        Map<PolicyKey, PolicyEntry> upserts = new LinkedHashMap<>();
        desired.forEach((key, entry) -> {
            if (!entry.equals(current.get(key))) {
                upserts.put(key, entry);
            }
        });
        List<PolicyKey> deletes = new ArrayList<>();
        for (PolicyKey key : current.keySet()) {
            if (!desired.containsKey(key)) {
                deletes.add(key);
            }
        }
        return new Diff(upserts, deletes);
    }

    /**
     * The map contents a state record asks for. A port range becomes one entry per port; where two
     * entries share a key, a deny wins (as it does in the datapath).
     *
     * @throws IllegalArgumentException naming the entry when one is malformed
     */
    public static Map<PolicyKey, PolicyEntry> desired(EndpointPolicyState state) {
        Map<PolicyKey, PolicyEntry> entries = new LinkedHashMap<>();
        for (int i = 0; i < state.getEntriesCount(); i++) {
            PolicyMapEntry e = state.getEntries(i);
            int direction = switch (e.getDirection()) {
                case DIRECTION_INGRESS -> MapLayout.DIR_INGRESS;
                case DIRECTION_EGRESS -> MapLayout.DIR_EGRESS;
                default -> throw new IllegalArgumentException("entries[" + i + "].direction: " + e.getDirection()
                        + " is neither DIRECTION_INGRESS nor DIRECTION_EGRESS");
            };
            int first = e.getPort();
            int last = e.getEndPort() == 0 ? first : e.getEndPort();
            if (first > 65535 || last > 65535 || last < first || (first == 0 && last != 0)) {
                throw new IllegalArgumentException("entries[" + i + "]: port range " + first + ".." + last
                        + " is not within 1..65535 (or 0 for any port)");
            }
            for (int port = first; port <= last; port++) {
                PolicyKey key = new PolicyKey(e.getIdentity(), port, e.getProtocolValue(), direction);
                PolicyEntry entry = new PolicyEntry(e.getCookie(), e.getDeny());
                PolicyEntry existing = entries.get(key);
                if (existing == null || (!existing.deny() && entry.deny())) {
                    entries.put(key, entry);
                }
            }
        }
        return entries;
    }

    static int flags(EndpointPolicyState state) {
        return (state.getIngressIsolated() ? MapLayout.EP_INGRESS_ISOLATED : 0)
                | (state.getEgressIsolated() ? MapLayout.EP_EGRESS_ISOLATED : 0);
    }

    static Direction direction(int code) {
        return code == MapLayout.DIR_INGRESS ? Direction.DIRECTION_INGRESS : Direction.DIRECTION_EGRESS;
    }
}
