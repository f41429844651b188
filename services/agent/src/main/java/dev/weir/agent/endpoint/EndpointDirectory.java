package dev.weir.agent.endpoint;

import dev.weir.proto.state.v1.Endpoint;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is who, for enriching flows: this node's endpoints by interface and id, every known
 * endpoint of the cluster by address (from the endpoints topic), and the labels of identities.
 * Read on the flow path without locks; written by the endpoint manager and the state consumers.
 */
public final class EndpointDirectory {

    private final Map<Integer, LocalEndpoint> byIfindex = new ConcurrentHashMap<>();
    private final Map<Integer, LocalEndpoint> byEndpointId = new ConcurrentHashMap<>();
    private final Map<String, Endpoint> byAddress = new ConcurrentHashMap<>();
    private final Map<String, Endpoint> byKey = new ConcurrentHashMap<>();
    private final Map<Integer, List<String>> identityLabels = new ConcurrentHashMap<>();

    public void putLocal(LocalEndpoint endpoint) {
        byIfindex.put(endpoint.ifindex(), endpoint);
        byEndpointId.put(endpoint.endpointId(), endpoint);
    }

    public void removeLocal(LocalEndpoint endpoint) {
        byIfindex.remove(endpoint.ifindex(), endpoint);
        byEndpointId.remove(endpoint.endpointId(), endpoint);
    }

    public Optional<LocalEndpoint> local(int ifindex) {
        return Optional.ofNullable(byIfindex.get(ifindex));
    }

    public Optional<LocalEndpoint> localById(int endpointId) {
        return Optional.ofNullable(byEndpointId.get(endpointId));
    }

    public Collection<LocalEndpoint> locals() {
        return byEndpointId.values();
    }

    /** An endpoint record of any node; a null endpoint (tombstone) removes the key. */
    public void putEndpoint(String key, Endpoint endpoint) {
        Endpoint previous = endpoint == null ? byKey.remove(key) : byKey.put(key, endpoint);
        if (previous != null) {
            previous.getIpsList().forEach(ip -> byAddress.remove(ip, previous));
        }
        if (endpoint != null) {
            endpoint.getIpsList().forEach(ip -> byAddress.put(ip, endpoint));
        }
    }

    public Optional<Endpoint> endpoint(String key) {
        return Optional.ofNullable(byKey.get(key));
    }

    public Optional<Endpoint> byAddress(String ip) {
        return Optional.ofNullable(byAddress.get(ip));
    }

    public void putIdentity(int id, List<String> labels) {
        if (labels == null) {
            identityLabels.remove(id);
        } else {
            identityLabels.put(id, List.copyOf(labels));
        }
    }

    public List<String> labelsOf(int identity) {
        return identityLabels.getOrDefault(identity, List.of());
    }
}
