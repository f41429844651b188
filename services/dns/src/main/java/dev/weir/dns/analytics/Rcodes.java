package dev.weir.dns.analytics;

/** DNS response codes by name, as CoreDNS and Hubble label them. */
final class Rcodes {

    static final int NOERROR = 0;
    static final int SERVFAIL = 2;
    static final int NXDOMAIN = 3;
    static final int REFUSED = 5;

    private static final String[] NAMES = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};

    private Rcodes() {
    }

    static String name(int rcode) {
        return rcode >= 0 && rcode < NAMES.length ? NAMES[rcode] : "RCODE" + rcode;
    }
}
