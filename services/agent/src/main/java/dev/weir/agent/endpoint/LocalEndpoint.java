package dev.weir.agent.endpoint;

/** A pod of this node with its datapath attachment. */
public record LocalEndpoint(PodSpec spec, int endpointId, String netns, String hostInterface, int ifindex,
        int identity, int flags) {

    public LocalEndpoint withIdentityAndFlags(int newIdentity, int newFlags) {
        return new LocalEndpoint(spec, endpointId, netns, hostInterface, ifindex, newIdentity, newFlags);
    }
}
