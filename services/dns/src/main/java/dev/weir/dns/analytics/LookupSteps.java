package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.LookupStep;

/**
 * A client's recent lookup steps, in the state: NXDOMAIN answers the search-path detector pairs
 * with a later answer, answered names, and queries given up on, which a retry is matched against.
 * At most {@link DnsSettings#MAX_RECENT}; the oldest goes first.
 */
final class LookupSteps {

    /** The rcode of a step that marks a query given up on (no rcode is this large). */
    static final int UNANSWERED = 0xffff;

    private final DnsClientState.Builder state;

    LookupSteps(DnsClientState.Builder state) {
        this.state = state;
    }

    void remember(String name, String qtype, int rcode, long timeMs) {
        if (state.getRecentCount() >= DnsSettings.MAX_RECENT) {
            state.removeRecent(0);
        }
        state.addRecent(LookupStep.newBuilder().setName(name).setQtype(qtype).setRcode(rcode).setTimeMs(timeMs));
    }

    /**
     * Whether the same name and type was given up on within {@code withinMs} before {@code timeMs}:
     * then this query is its retry, and the step is taken (one retry per query given up on).
     */
    boolean takeUnanswered(String name, String qtype, long timeMs, long withinMs) {
        for (int i = state.getRecentCount() - 1; i >= 0; i--) {
            LookupStep step = state.getRecent(i);
            if (step.getRcode() == UNANSWERED && step.getName().equals(name) && step.getQtype().equals(qtype)
                    && timeMs - step.getTimeMs() <= withinMs) {
                state.removeRecent(i);
                return true;
            }
        }
        return false;
    }

    /** Steps at the front older than the horizon are forgotten. */
    void forgetBefore(long horizon) {
        while (state.getRecentCount() > 0 && state.getRecent(0).getTimeMs() < horizon) {
            state.removeRecent(0);
        }
    }

    int size() {
        return state.getRecentCount();
    }

    LookupStep get(int i) {
        return state.getRecent(i);
    }

    void remove(int i) {
        state.removeRecent(i);
    }
}
