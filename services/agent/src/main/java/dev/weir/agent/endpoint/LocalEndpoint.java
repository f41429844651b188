package dev.weir.agent.endpoint;

import dev.weir.agent.datapath.EndpointEntry;

/** A pod of this node with its datapath attachment: what the endpoints map records for its interface. */
public record LocalEndpoint(PodSpec spec, Attachment attachment, EndpointEntry datapath) {

    public String netns() {
        return attachment.netns();
    }

    public String hostInterface() {
        return attachment.hostInterface();
    }

    public int ifindex() {
        return attachment.ifindex();
    }

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
        return new LocalEndpoint(spec, attachment, entry);
    }

    public LocalEndpoint with(PodSpec described) {
        return new LocalEndpoint(described, attachment, datapath);
    }
}
