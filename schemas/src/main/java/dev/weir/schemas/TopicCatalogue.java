package dev.weir.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The topic catalogue ({@code weir/topics.yaml}, shipped in this artifact), parsed and checked.
 * The only place topic names come from.
 */
public final class TopicCatalogue {

    public static final String RESOURCE = "weir/topics.yaml";

    private static volatile TopicCatalogue standard;

    private final Map<TopicId, TopicSpec> topics;

    private TopicCatalogue(Map<TopicId, TopicSpec> topics) {
        this.topics = Collections.unmodifiableMap(topics);
    }

    /** The catalogue this artifact ships. */
    public static TopicCatalogue standard() {
        TopicCatalogue result = standard;
        if (result == null) {
            try (InputStream in = TopicCatalogue.class.getClassLoader().getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is not on the class path");
                }
                result = parse(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            standard = result;
        }
        return result;
    }

    /** Parses a catalogue; every problem is reported with the topic and field it concerns. */
    public static TopicCatalogue parse(InputStream yaml) {
        Object document = new Load(LoadSettings.builder().setLabel(RESOURCE).build()).loadFromInputStream(yaml);
        if (!(document instanceof Map<?, ?> root) || !(root.get("topics") instanceof List<?> entries)) {
            throw new CatalogueException("the catalogue must be a map with a list under 'topics'");
        }
        Map<TopicId, TopicSpec> topics = new EnumMap<>(TopicId.class);
        Set<String> names = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            if (!(entries.get(i) instanceof Map<?, ?> entry)) {
                throw new CatalogueException("topics[" + i + "] must be a map");
            }
            TopicSpec spec = toSpec("topics[" + i + "]", entry);
            if (topics.put(spec.id(), spec) != null) {
                throw new CatalogueException("topics[" + i + "].id: '" + spec.id().catalogueId() + "' is declared twice");
            }
            if (!names.add(spec.name())) {
                throw new CatalogueException("topics[" + i + "].name: '" + spec.name() + "' is declared twice");
            }
        }
        List<String> missing = new ArrayList<>();
        for (TopicId id : TopicId.values()) {
            if (!topics.containsKey(id)) {
                missing.add(id.catalogueId());
            }
        }
        if (!missing.isEmpty()) {
            throw new CatalogueException("topics used by the code but not declared: " + missing);
        }
        return new TopicCatalogue(topics);
    }

    private static TopicSpec toSpec(String path, Map<?, ?> entry) {
        String idText = text(path, entry, "id");
        TopicId id = null;
        for (TopicId candidate : TopicId.values()) {
            if (candidate.catalogueId().equals(idText)) {
                id = candidate;
            }
        }
        if (id == null) {
            throw new CatalogueException(path + ".id: '" + idText + "' is not a topic the code knows (TopicId)");
        }
        String name = text(path, entry, "name");
        if (!name.matches("[a-zA-Z0-9._-]{1,249}")) {
            throw new CatalogueException(path + ".name: '" + name + "' is not a legal Kafka topic name");
        }
        Object partitions = entry.get("partitions");
        if (!(partitions instanceof Number count) || count.intValue() < 1) {
            throw new CatalogueException(path + ".partitions: must be a positive integer");
        }
        String cleanupText = text(path, entry, "cleanup");
        TopicSpec.CleanupPolicy cleanup;
        try {
            cleanup = TopicSpec.CleanupPolicy.valueOf(cleanupText.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CatalogueException(path + ".cleanup: '" + cleanupText + "' is neither compact nor delete");
        }
        String retentionText = text(path, entry, "retention");
        Optional<Duration> retention;
        if (retentionText.equals("forever")) {
            retention = Optional.empty();
        } else {
            try {
                retention = Optional.of(Duration.parse(retentionText));
            } catch (DateTimeParseException e) {
                throw new CatalogueException(path + ".retention: '" + retentionText + "' is not an ISO-8601 duration or 'forever'");
            }
        }
        return new TopicSpec(id, name, text(path, entry, "key"), text(path, entry, "value"),
                count.intValue(), cleanup, retention, text(path, entry, "description"));
    }

    private static String text(String path, Map<?, ?> entry, String field) {
        Object value = entry.get(field);
        if (value == null || value.toString().isBlank()) {
            throw new CatalogueException(path + "." + field + ": is required");
        }
        return value.toString().trim();
    }

    public TopicSpec spec(TopicId id) {
        return topics.get(id);
    }

    /** The topic's name on the broker. */
    public String name(TopicId id) {
        return topics.get(id).name();
    }

    public List<TopicSpec> all() {
        return List.copyOf(topics.values());
    }

    public static final class CatalogueException extends RuntimeException {
        public CatalogueException(String message) {
            super(message);
        }
    }
}
