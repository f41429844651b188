package dev.weir.dns.api;

import java.util.List;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Reading the JSON columns of the DNS history. */
final class JsonColumns {

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private JsonColumns() {
    }

    static List<String> strings(String json) {
        return json == null ? List.of() : MAPPER.readValue(json, new TypeReference<List<String>>() { });
    }
}
