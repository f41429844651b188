package dev.weir.agent.endpoint;

import dev.weir.agent.datapath.EndpointEntry;

/** A pod of this node with its datapath attachment: what the endpoints map records for its interface. */
public record LocalEndpoint(PodSpec spec, String netns, String hostInterface, int ifindex, EndpointEntry datapath) {

    public int endpointId() {
        return datapath.endpointId();
    }

    public int identity() {
        return datapath.identity();
    }

    public int flags() {
        return datapath.flags();
    }

    public int policyRevision() {
        return datapath.policyRevision();
    }

    public LocalEndpoint with(EndpointEntry entry) {
        return new LocalEndpoint(spec, netns, hostInterface, ifindex, entry);
    }
}
