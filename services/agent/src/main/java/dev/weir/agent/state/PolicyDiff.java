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

    /**
     * How to go from the map's current contents to the desired ones without opening more than
     * either allows at any moment: allows no longer wanted go first (narrower), then denies and
     * allows new or changed, and the denies no longer wanted last (after the revision is in force).
     *
     * @param peakEntries the most entries the map holds on the way
     */
    public record Plan(List<PolicyKey> staleAllows, Map<PolicyKey, PolicyEntry> denies,
            Map<PolicyKey, PolicyEntry> allows, List<PolicyKey> staleDenies, int peakEntries) {
    }

    public static Plan plan(Map<PolicyKey, PolicyEntry> desired, Map<PolicyKey, PolicyEntry> current) {
        Diff diff = diff(desired, current);
        List<PolicyKey> staleAllows = new ArrayList<>();
        List<PolicyKey> staleDenies = new ArrayList<>();
        for (PolicyKey key : diff.deletes()) {
            (current.get(key).deny() ? staleDenies : staleAllows).add(key);
        }
        Map<PolicyKey, PolicyEntry> denies = new LinkedHashMap<>();
        Map<PolicyKey, PolicyEntry> allows = new LinkedHashMap<>();
        int added = 0;
        for (Map.Entry<PolicyKey, PolicyEntry> e : diff.upserts().entrySet()) {
            (e.getValue().deny() ? denies : allows).put(e.getKey(), e.getValue());
            if (!current.containsKey(e.getKey())) {
                added++;
            }
        }
        int peak = current.size() - staleAllows.size() + added;
        return new Plan(staleAllows, denies, allows, staleDenies, Math.max(peak, desired.size()));
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
     * The map contents a state record asks for. A port range becomes the few prefixes that cover
     * it exactly (1-65535: 16 keys). Where two entries share a key, a deny wins; an allow whose
     * ports lie within a deny of the same identity and direction is left out, because in the
     * datapath's trie the more specific key decides and would hide the deny.
     *
     * @throws IllegalArgumentException naming the entry when one is malformed
     */
    public static Map<PolicyKey, PolicyEntry> desired(EndpointPolicyState state) {
        List<Rule> rules = new ArrayList<>(state.getEntriesCount());
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
            int protocol = e.getProtocolValue();
            if (protocol < 0 || protocol > 255 || (protocol == 0 && first != 0)) {
                throw new IllegalArgumentException("entries[" + i + "]: port " + first + " needs a protocol");
            }
            if (first != 0 && protocol != 6 && protocol != 17 && protocol != 132) {
                // The datapath judges other protocols (ICMP...) on no port: such an entry would never match.
                throw new IllegalArgumentException("entries[" + i + "]: protocol " + protocol + " has no ports (port "
                        + first + ")");
            }
            rules.add(new Rule(e.getIdentity(), direction, protocol, first, last, e.getCookie(), e.getDeny()));
        }
        return desired(rules);
    }

    /** One compiled entry: an identity may (or may not, deny) reach ports first..last (0..0: any) of a protocol. */
    public record Rule(int identity, int direction, int protocol, int first, int last, int cookie, boolean deny) {
    }

    /** The map contents for these rules (see {@link #desired(EndpointPolicyState)}). */
    public static Map<PolicyKey, PolicyEntry> desired(List<Rule> rules) {
        Map<PolicyKey, PolicyEntry> entries = new LinkedHashMap<>();
        for (Rule rule : rules) {
            PolicyEntry entry = new PolicyEntry(rule.cookie(), rule.deny());
            for (PolicyKey key : PortRanges.keys(rule.identity(), rule.direction(), rule.protocol(), rule.first(),
                    rule.last())) {
                PolicyEntry existing = entries.get(key);
                if (existing == null || (!existing.deny() && entry.deny())) {
                    entries.put(key, entry);
                }
            }
        }
        // Denies by {identity, direction}: an allow is checked only against the denies it could be within.
        Map<Long, List<PolicyKey>> denies = new java.util.HashMap<>();
        entries.forEach((key, entry) -> {
            if (entry.deny()) {
                denies.computeIfAbsent(scope(key), k -> new ArrayList<>()).add(key);
            }
        });
        if (!denies.isEmpty()) {
            entries.entrySet().removeIf(x -> !x.getValue().deny()
                    && denies.getOrDefault(scope(x.getKey()), List.of()).stream().anyMatch(x.getKey()::within));
        }
        return entries;
    }

    private static long scope(PolicyKey key) {
        return ((long) key.identity() << 8) | key.direction();
    }

    static int flags(EndpointPolicyState state) {
        return (state.getIngressIsolated() ? MapLayout.EP_INGRESS_ISOLATED : 0)
                | (state.getEgressIsolated() ? MapLayout.EP_EGRESS_ISOLATED : 0);
    }

    static Direction direction(int code) {
        return code == MapLayout.DIR_INGRESS ? Direction.DIRECTION_INGRESS : Direction.DIRECTION_EGRESS;
    }
}
