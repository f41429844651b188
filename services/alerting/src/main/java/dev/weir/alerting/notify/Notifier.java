package dev.weir.alerting.notify;

import dev.weir.alerting.eval.Alert;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Alertmanager's dispatch, for Weir's receivers: alerts are grouped per receiver by its groupBy
 * labels; a new group waits groupWait before its first notification (so a burst arrives as one),
 * a changed group is notified again no sooner than groupInterval, an unchanged firing one every
 * repeatInterval. Silenced and inhibited alerts are left out; resolved alerts are notified once,
 * and only to a receiver that was told they fired (as Alertmanager does: an alert that fired and
 * resolved within groupWait is no news). Times are given, not read.
 */
public final class Notifier {

    private final Map<String, AggregationGroup> groups = new LinkedHashMap<>();
    private List<Receiver> receivers = List.of();
    private List<Silence> silences = List.of();
    private List<Inhibition> inhibitions = List.of();

    private static final class AggregationGroup {
        final Receiver receiver;
        final String key;
        final Map<String, String> labels;
        final Map<String, Alert> alerts = new LinkedHashMap<>();
        /** Fingerprints this receiver was last told are firing: only their resolution is news to it. */
        final java.util.Set<String> notifiedFiring = new java.util.HashSet<>();
        final long createdMs;
        long lastFlushMs = -1;
        boolean changed = true;

        AggregationGroup(Receiver receiver, String key, Map<String, String> labels, long createdMs) {
            this.receiver = receiver;
            this.key = key;
            this.labels = labels;
            this.createdMs = createdMs;
        }
    }

    public synchronized void configure(List<Receiver> receivers, List<Silence> silences, List<Inhibition> inhibitions) {
        this.receivers = List.copyOf(receivers);
        this.silences = List.copyOf(silences);
        this.inhibitions = List.copyOf(inhibitions);
    }

    public synchronized List<Silence> silences() {
        return silences;
    }

    /**
     * A firing alert taken back after a restart: notified before it, so not again now (its
     * repeat interval runs from here), but notified when it resolves.
     */
    public synchronized void restore(Alert alert, long nowMs) {
        accept(alert, nowMs);
        for (AggregationGroup group : groups.values()) {
            if (group.alerts.containsKey(alert.fingerprint()) && group.lastFlushMs < 0) {
                group.lastFlushMs = nowMs;
                group.changed = false;
            }
            if (group.alerts.containsKey(alert.fingerprint())) {
                group.notifiedFiring.add(alert.fingerprint());
            }
        }
    }

    /** A firing or resolved alert, from the evaluator. */
    public synchronized void accept(Alert alert, long nowMs) {
        if (alert.status() == Alert.Status.PENDING) {
            return;
        }
        for (Receiver receiver : receivers) {
            if (receiver.disabled() || !receiver.matchers().stream().allMatch(m -> m.matches(alert.labels()))) {
                continue;
            }
            Map<String, String> groupLabels = new TreeMap<>();
            for (String label : receiver.groupBy()) {
                groupLabels.put(label, alert.labels().getOrDefault(label, ""));
            }
            String key = receiver.name() + ":" + groupLabels;
            AggregationGroup group = groups.get(key);
            if (group == null) {
                if (alert.status() == Alert.Status.RESOLVED) {
                    continue; // never notified as firing to this receiver: nothing to resolve
                }
                group = new AggregationGroup(receiver, key, Map.copyOf(groupLabels), nowMs);
                groups.put(key, group);
            }
            group.alerts.put(alert.fingerprint(), alert);
            group.changed = true;
        }
    }

    /** The notifications due now. */
    public synchronized List<Notification> flush(long nowMs, Collection<Alert> firing) {
        List<Notification> due = new ArrayList<>();
        Instant now = Instant.ofEpochMilli(nowMs);
        for (var it = groups.values().iterator(); it.hasNext();) {
            AggregationGroup group = it.next();
            Receiver receiver = group.receiver;
            boolean first = group.lastFlushMs < 0;
            boolean send = first ? nowMs - group.createdMs >= receiver.groupWait().toMillis()
                    : group.changed ? nowMs - group.lastFlushMs >= receiver.groupInterval().toMillis()
                    : nowMs - group.lastFlushMs >= receiver.repeatInterval().toMillis();
            if (!send) {
                continue;
            }
            List<Alert> alerts = new ArrayList<>();
            for (Alert alert : group.alerts.values()) {
                boolean resolved = alert.status() == Alert.Status.RESOLVED;
                boolean muted = silences.stream().anyMatch(s -> s.silences(alert.labels(), now))
                        || inhibitions.stream().anyMatch(i -> i.inhibits(alert, firing));
                if (!muted && (!resolved || group.notifiedFiring.contains(alert.fingerprint()))) {
                    alerts.add(alert);
                }
            }
            group.lastFlushMs = nowMs;
            group.changed = false;
            if (!alerts.isEmpty()) {
                due.add(new Notification(receiver, "{}:" + group.labels, group.labels, alerts));
                // Resolutions sent are done with; an alert muted now keeps its mark, its resolution is still news.
                for (Alert a : alerts) {
                    if (a.status() == Alert.Status.RESOLVED) {
                        group.notifiedFiring.remove(a.fingerprint());
                    } else {
                        group.notifiedFiring.add(a.fingerprint());
                    }
                }
            }
            group.alerts.values().removeIf(a -> a.status() == Alert.Status.RESOLVED);
            if (group.alerts.isEmpty()) {
                it.remove();
            }
        }
        return due;
    }

    /** Which alerts are silenced now, by fingerprint, for the API. */
    public synchronized Map<String, List<String>> silencedBy(Collection<Alert> alerts, long nowMs) {
        Map<String, List<String>> result = new HashMap<>();
        Instant now = Instant.ofEpochMilli(nowMs);
        for (Alert alert : alerts) {
            List<String> ids = silences.stream().filter(s -> s.silences(alert.labels(), now)).map(Silence::id).toList();
            if (!ids.isEmpty()) {
                result.put(alert.fingerprint(), ids);
            }
        }
        return result;
    }
}
