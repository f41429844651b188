package dev.weir.alerting.notify;

import java.time.Duration;
import java.util.List;

/**
 * Where notifications go: a webhook URL, the payload format (Alertmanager's webhook JSON, or
 * Weir's), the secrets it is signed with (several during a rotation), the alerts it takes
 * (matchers), and how it groups them (Alertmanager's group_by, group_wait, group_interval,
 * repeat_interval).
 */
public record Receiver(String name, String url, Format format, List<String> secrets, List<Matcher> matchers,
        List<String> groupBy, Duration groupWait, Duration groupInterval, Duration repeatInterval, boolean disabled,
        String disabledReason) {

    /** Without the signing secrets or the URL's query (it may carry a credential). */
    @Override
    public String toString() {
        int query = url.indexOf('?');
        return "Receiver[" + name + ", " + (query < 0 ? url : url.substring(0, query) + "?…") + ", " + format
                + (disabled ? ", disabled" : "") + "]";
    }

    public enum Format { ALERTMANAGER, WEIR }

    public Receiver {
        secrets = List.copyOf(secrets);
        matchers = List.copyOf(matchers);
        groupBy = List.copyOf(groupBy);
    }
}
