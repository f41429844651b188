package dev.weir.dns.history;

import dev.weir.proto.dns.v1.NameCount;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.json.JsonMapper;

/** The JSON columns of the DNS history. */
final class Json {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    static String object(Map<String, Long> counts) {
        return MAPPER.writeValueAsString(new TreeMap<>(counts));
    }

    static String strings(List<String> values) {
        return MAPPER.writeValueAsString(values);
    }

    static String names(List<NameCount> names) {
        return MAPPER.writeValueAsString(names.stream().map(n -> Map.of("name", n.getName(), "count", n.getCount())).toList());
    }

}
