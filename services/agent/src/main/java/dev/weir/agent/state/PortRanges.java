package dev.weir.agent.state;

import dev.weir.agent.datapath.PolicyKey;
import java.util.ArrayList;
import java.util.List;

/** Port ranges as the prefixes of the policy trie: the fewest aligned blocks that cover a range exactly. */
final class PortRanges {

    private PortRanges() {
    }

    /**
     * Keys for first..last of a protocol; first 0, or every port 1..65535, is any port (port 0 is no
     * port a connection can use; the compiler treats the whole range so too); protocol 0 anything.
     */
    static List<PolicyKey> keys(int identity, int direction, int protocol, int first, int last) {
        if (protocol == 0 || first == 0 || (first == 1 && last == 65535)) {
            return List.of(PolicyKey.of(identity, 0, protocol, direction));
        }
        List<PolicyKey> keys = new ArrayList<>();
        int lo = first;
        while (lo <= last) {
            int span = 0; // low bits the block starting at lo may cover
            while (span < 16 && (lo & ((1 << (span + 1)) - 1)) == 0 && lo + (1 << (span + 1)) - 1 <= last) {
                span++;
            }
            keys.add(new PolicyKey(identity, direction, protocol, lo, 16 - span));
            lo += 1 << span;
        }
        return keys;
    }
}
