package dev.weir.policy.model;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A compiled cluster: every pod's endpoint policy, the ipcache (prefix → identity) every node
 * loads, and the identities by number.
 */
public record Compilation(Map<String, EndpointPolicy> endpoints, Map<Cidr, Integer> ipcache,
        Map<Integer, Identity> identities, Map<String, Integer> cookies) {

    public EndpointPolicy endpoint(String podKey) {
        return endpoints.getOrDefault(podKey, EndpointPolicy.UNSELECTED);
    }

    /** The identity the datapath's LPM lookup gives an address: the longest prefix, else world. */
    public int identityOf(String ip) {
        Cidr host = Cidr.host(ip);
        Integer exact = ipcache.get(host); // a host entry is the longest prefix there is (every pod has one)
        if (exact != null) {
            return exact;
        }
        Optional<Map.Entry<Cidr, Integer>> best = ipcache.entrySet().stream()
                .filter(e -> e.getKey().contains(host))
                .max(Comparator.comparingInt(e -> e.getKey().length()));
        return best.map(Map.Entry::getValue).orElse(Identity.WORLD);
    }

    /** The policy a cookie stands for. */
    public Optional<String> policyOf(int cookie) {
        return cookies.entrySet().stream().filter(e -> e.getValue() == cookie).map(Map.Entry::getKey).findFirst();
    }

    public List<String> podKeys() {
        return endpoints.keySet().stream().sorted().toList();
    }
}
