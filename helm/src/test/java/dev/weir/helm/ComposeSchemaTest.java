package dev.weir.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * docker-compose.yml against the Compose specification's JSON schema (compose-spec.json, fetched by
 * fetch-compose-schema.sh): unknown keys, wrong types and bad values are errors.
 */
class ComposeSchemaTest {

    private static Schema schema;

    @BeforeAll
    static void loadSchema() throws Exception {
        JsonNode json = JsonMapper.builder().build().readTree(Files.readString(Path.of("target", "compose-spec.json")));
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2019_09).getSchema(dropLegacyIds(json));
    }

    @Test
    void theComposeFileFollowsTheComposeSpecification() throws Exception {
        List<Error> errors = validate(Files.readString(Path.of("..", "docker-compose.yml")));
        assertThat(errors).as("schema errors").isEmpty();
    }

    @Test
    void theSchemaCatchesAMisspeltKeyAndAWrongType() throws Exception {
        String compose = Files.readString(Path.of("..", "docker-compose.yml"));
        assertThat(validate(compose.replaceFirst("network_mode: host", "network_mod: host")))
                .extracting(Error::getMessage).anyMatch(m -> m.contains("network_mod"));
        assertThat(validate(compose.replaceFirst("privileged: true", "privileged: [yes]"))).isNotEmpty();
    }

    /**
     * The schema labels its parts with draft-04 {@code "id": "#/..."}, which its own draft (2019-09)
     * no longer knows; they are labels only, so they go.
     */
    private static JsonNode dropLegacyIds(JsonNode node) {
        if (node instanceof ObjectNode object) {
            if (object.has("id") && object.get("id").isString()) {
                object.remove("id");
            }
            object.values().forEach(ComposeSchemaTest::dropLegacyIds);
        } else if (node.isArray()) {
            node.forEach(ComposeSchemaTest::dropLegacyIds);
        }
        return node;
    }

    private static List<Error> validate(String yaml) {
        Object document = resolveMerges(new Load(LoadSettings.builder().build()).loadFromString(yaml));
        return schema.validate(JsonMapper.builder().build().valueToTree(document));
    }

    /**
     * Compose files use YAML merge keys ({@code <<: *anchor}), which YAML 1.2 parsers leave as a
     * plain key: merge them as Compose does (the map's own keys win).
     */
    @SuppressWarnings("unchecked")
    static Object resolveMerges(Object node) {
        if (node instanceof Map<?, ?> map) {
            Map<String, Object> merged = new LinkedHashMap<>();
            Object base = map.get("<<");
            if (base instanceof Map<?, ?> baseMap) {
                ((Map<String, Object>) resolveMerges(baseMap)).forEach(merged::put);
            }
            map.forEach((key, value) -> {
                if (!"<<".equals(key)) {
                    merged.put(String.valueOf(key), resolveMerges(value));
                }
            });
            return merged;
        }
        if (node instanceof List<?> list) {
            return list.stream().map(ComposeSchemaTest::resolveMerges).toList();
        }
        return node;
    }
}
