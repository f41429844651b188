package dev.weir.alerting.api;

import dev.weir.alerting.rules.InvalidRule;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;

/** Rule documents as stored: each rule on its own, as YAML, in the user's own words. */
final class RuleYaml {

    private RuleYaml() {
    }

    /** The one rule named, out of a document already validated. */
    static String of(String body, String name) {
        Object document = dev.weir.schemas.yaml.StrictYaml.loadAll(body).get(0);
        List<?> items = document instanceof Map<?, ?> map && map.containsKey("rules") ? (List<?>) map.get("rules")
                : document instanceof List<?> list ? list : List.of(document);
        for (Object item : items) {
            if (item instanceof Map<?, ?> rule && name.equals(rule.get("name"))) {
                return new Dump(DumpSettings.builder().build()).dumpToString(rule);
            }
        }
        throw new IllegalStateException("rule " + name + " vanished from its document");
    }

    static Duration duration(String field, String value) {
        try {
            return dev.weir.common.time.Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRule(field, e.getMessage());
        }
    }
}
