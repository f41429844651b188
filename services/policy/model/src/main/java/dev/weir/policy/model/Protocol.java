package dev.weir.policy.model;

/** L4 protocols of NetworkPolicy ports, with the IANA numbers the datapath keys its maps by. */
public enum Protocol {
    TCP(6),
    UDP(17),
    SCTP(132);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }
}
