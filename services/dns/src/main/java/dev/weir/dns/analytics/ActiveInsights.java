package dev.weir.dns.analytics;

import dev.weir.proto.dns.v1.DnsClientState;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.proto.dns.v1.InsightKind;
import java.util.List;
import java.util.function.Consumer;

/**
 * A client's insight lifecycle: a finding raises its insight (or updates the one active, keeping
 * its id), and a finding that stays away for resolve-after resolves it. Also the outlet of the
 * call being handled: insights and closed windows go to the sink that call brought.
 */
final class ActiveInsights {

    private static final Consumer<Object> NOWHERE = o -> { };

    private final String key;
    private final DnsClientState.Builder state;
    private final long resolveAfterMs;
    /** Where the call being handled sends its insights and closed windows. */
    private Consumer<Object> out = NOWHERE;
    /** Whether the call being handled changed the state. */
    private boolean changed;

    ActiveInsights(String key, DnsClientState.Builder state, DnsSettings settings) {
        this.key = key;
        this.state = state;
        this.resolveAfterMs = settings.resolveAfter().toMillis();
    }

    /** A call starts: its output goes to {@code out}, and nothing is changed yet. */
    void begin(Consumer<Object> out) {
        this.out = out;
        this.changed = false;
    }

    /** The call ends: the sink holds the record and the context, and is not kept with the state. */
    void end() {
        this.out = NOWHERE;
    }

    void emit(Object output) {
        out.accept(output);
    }

    void changed() {
        changed = true;
    }

    boolean wasChanged() {
        return changed;
    }

    /** The client as the summaries name it. */
    String subject() {
        DnsClientStats.Builder window = state.getWindowBuilder();
        return Advice.subject(window.getNamespace(), window.getPodName(), window.getClientIp());
    }

    /** Whether the kind's active insight was raised or updated less than {@code withinMs} before {@code now}. */
    boolean updatedWithin(InsightKind kind, long now, long withinMs) {
        DnsInsight active = active(kind);
        return active != null && Insights.ms(active.getTime()) > now - withinMs;
    }

    void raise(InsightKind kind, long now, double value, List<String> evidence, Advice.Text text, List<String> policies) {
        DnsInsight active = active(kind);
        DnsInsight.Builder insight;
        if (active != null) {
            insight = active.toBuilder().setTime(Insights.time(now)).setWindowEnd(Insights.time(now)).clearEvidence();
        } else {
            insight = Insights.finding(key, kind, now, now);
        }
        DnsClientStats.Builder window = state.getWindowBuilder();
        insight.setNamespace(window.getNamespace()).setPodName(window.getPodName()).setNodeName(window.getNodeName())
                .setWorkload(window.getWorkload()).setSummary(text.summary()).setSuggestedFix(text.fix()).setValue(value)
                .addAllEvidence(Insights.bounded(evidence)).clearPolicies().addAllPolicies(policies);
        DnsInsight built = insight.build();
        replace(kind, built);
        out.accept(built);
    }

    void quiet(InsightKind kind, long now) {
        DnsInsight active = active(kind);
        if (active != null) {
            replace(kind, null);
            changed = true;
            out.accept(Insights.resolved(active, now));
        }
    }

    boolean isActive(InsightKind kind) {
        return active(kind) != null;
    }

    /** Findings that have stayed away for resolve-after are resolved. */
    void resolveQuiet(long now) {
        if (state.getActiveCount() == 0) {
            return; // the usual case, on every event: nothing to resolve
        }
        // A search path resolves only once a lookup since went straight to its answer.
        quietSince(InsightKind.SEARCH_PATH_EXPANSION, now, state.getLastSearchPathMs(),
                state.getLastDirectLookupMs() > state.getLastSearchPathMs());
        quietSince(InsightKind.BLOCKED_BY_POLICY, now, state.getLastBlockedMs(), true);
        quietSince(InsightKind.TIMEOUTS, now, state.getLastTimeoutMs(), true);
        quietSince(InsightKind.UNRESOLVABLE_NAME, now, state.getLastUnresolvableMs(), true);
        quietSince(InsightKind.RATE_LIMITED, now, state.getLastRateLimitedMs(), true);
        quietSince(InsightKind.A_AAAA_RACE, now, state.getLastPairLostMs(), true);
    }

    private void quietSince(InsightKind kind, long now, long lastSeen, boolean evidenceOfHealth) {
        if (evidenceOfHealth && now - lastSeen >= resolveAfterMs) {
            quiet(kind, now);
        }
    }

    private DnsInsight active(InsightKind kind) {
        for (int i = 0; i < state.getActiveCount(); i++) {
            if (state.getActive(i).getKind() == kind) {
                return state.getActive(i);
            }
        }
        return null;
    }

    /** Removes the kind's insight and appends its successor (the order of the active list follows updates). */
    private void replace(InsightKind kind, DnsInsight insight) {
        for (int i = 0; i < state.getActiveCount(); i++) {
            if (state.getActive(i).getKind() == kind) {
                state.removeActive(i);
                break;
            }
        }
        if (insight != null) {
            state.addActive(insight);
        }
    }
}
