package dev.weir.alerting.delivery;

import java.util.List;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** JSON columns. */
public final class Json {

    public static final JsonMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    public static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }

    public static List<String> strings(String json) {
        return json == null ? List.of() : MAPPER.readValue(json, new TypeReference<List<String>>() { });
    }
}
