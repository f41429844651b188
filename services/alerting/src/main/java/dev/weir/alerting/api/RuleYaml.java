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

    /** Every rule of a document already validated, by name, each as YAML of its own (one parse of the body). */
    static Map<String, String> each(String body) {
        Object document = dev.weir.schemas.yaml.StrictYaml.loadAll(body).get(0);
        List<?> items = document instanceof Map<?, ?> map && map.containsKey("rules") ? (List<?>) map.get("rules")
                : document instanceof List<?> list ? list : List.of(document);
        Dump dump = new Dump(DumpSettings.builder().build());
        Map<String, String> rules = new java.util.LinkedHashMap<>();
        for (Object item : items) {
            if (item instanceof Map<?, ?> rule && rule.get("name") instanceof String name) {
                rules.put(name, dump.dumpToString(rule));
            }
        }
        return rules;
    }

    static Duration duration(String field, String value) {
        try {
            return dev.weir.common.time.Durations.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRule(field, e.getMessage());
        }
    }
}
