package dev.weir.policy.model;

/** A key of an endpoint's policy map, as the datapath looks it up (port and protocol 0: any). */
public record MapKey(int identity, int port, int protocol, Direction direction) {

    public enum Direction { INGRESS, EGRESS }
}
