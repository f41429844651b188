package dev.weir.schemas.yaml;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * The one way Weir reads YAML that users send (policies, alert rules, silences): YAML 1.2's core
 * schema with everything that surprises refused rather than guessed at. Anchors and aliases (a
 * billion laughs, or {@code namespace: *n} read as a string), duplicate keys, keys that are not
 * strings, NaN and infinite numbers, and documents over a size limit are each an
 * {@link InvalidYaml} saying where. What comes back is plain maps, lists, strings, numbers,
 * booleans and nulls.
 */
public final class StrictYaml {

    /** The largest document read, in code points, unless the caller gives less. */
    public static final int DEFAULT_LIMIT = 1 << 20;
    /** Deeper nesting is refused: no Weir document needs it, and the reader recurses. */
    public static final int MAX_DEPTH = 64;
    /** A plain number longer than this is refused: parsing a huge integer takes quadratic time. */
    public static final int MAX_NUMBER_LENGTH = 64;

    /** YAML that Weir does not read: where it is, and why. */
    public static final class InvalidYaml extends IllegalArgumentException {
        private final String where;

        public InvalidYaml(String where, String problem) {
            super(where + ": " + problem);
            this.where = where;
        }

        /** "line L, column C", or a field path. */
        public String where() {
            return where;
        }
    }

    private StrictYaml() {
    }

    /** Every document of the text; a document that is empty is left out. */
    public static List<Object> loadAll(String text) {
        return loadAll(text, DEFAULT_LIMIT);
    }

    public static List<Object> loadAll(String text, int maxCodePoints) {
        if (text.length() > maxCodePoints) {
            throw new InvalidYaml("(document)", "longer than " + maxCodePoints + " characters");
        }
        LoadSettings settings = LoadSettings.builder()
                .setAllowDuplicateKeys(false)
                .setAllowRecursiveKeys(false)
                .setMaxAliasesForCollections(0)
                .setCodePointLimit(maxCodePoints)
                .setLabel("yaml")
                .build();
        try {
            // One pass over the events first: what is refused is refused before anything is built from it.
            int depth = 0;
            for (Event event : new Parse(settings).parseString(text)) {
                if (event instanceof AliasEvent || event instanceof NodeEvent node && node.getAnchor().isPresent()) {
                    throw new InvalidYaml(where(event), "anchors and aliases (&name, *name) are not accepted; "
                            + "write the value out");
                }
                if (event instanceof org.snakeyaml.engine.v2.events.CollectionStartEvent && ++depth > MAX_DEPTH) {
                    throw new InvalidYaml(where(event), "nested deeper than " + MAX_DEPTH + " levels");
                }
                if (event instanceof org.snakeyaml.engine.v2.events.CollectionEndEvent) {
                    depth--;
                }
                if (event instanceof org.snakeyaml.engine.v2.events.ScalarEvent scalar && scalar.isPlain()
                        && scalar.getValue().length() > MAX_NUMBER_LENGTH && looksNumeric(scalar.getValue())) {
                    throw new InvalidYaml(where(event), "a number of more than " + MAX_NUMBER_LENGTH + " characters; "
                            + "quote it if it is text");
                }
            }
            List<Object> documents = new ArrayList<>();
            for (Object document : new Load(settings).loadAllFromString(text)) {
                if (document != null) {
                    check(document, "");
                    documents.add(document);
                }
            }
            return documents;
        } catch (YamlEngineException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new InvalidYaml("(document)", "not valid YAML: " + message.replaceAll("\\s+", " ").trim());
        }
    }

    private static void check(Object value, String path) {
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new InvalidYaml(path.isEmpty() ? "(document)" : path, "the key " + entry.getKey()
                            + " is not a string; quote it");
                }
                check(entry.getValue(), path.isEmpty() ? key : path + "." + key);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                check(list.get(i), path + "[" + i + "]");
            }
        } else if (value instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                throw new InvalidYaml(path, "'" + d + "' is not a finite number");
            }
        } else if (!(value == null || value instanceof String || value instanceof Boolean || value instanceof Integer
                || value instanceof Long || value instanceof BigInteger)) {
            throw new InvalidYaml(path, "a " + value.getClass().getSimpleName() + " is not accepted here (explicit tags "
                    + "like !!binary are not read)");
        }
    }

    /** What YAML's core schema would read as a number: digits after an optional sign, or 0x/0o forms. */
    private static boolean looksNumeric(String value) {
        int i = value.startsWith("-") || value.startsWith("+") ? 1 : 0;
        if (i >= value.length() || !(value.charAt(i) >= '0' && value.charAt(i) <= '9' || value.charAt(i) == '.')) {
            return false;
        }
        boolean hex = value.startsWith("0x", i);
        for (int j = i; j < value.length(); j++) {
            char c = value.charAt(j);
            boolean digit = c >= '0' && c <= '9';
            boolean allowed = digit || c == '_' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+'
                    || j == i + 1 && (c == 'x' || c == 'o') || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
            if (!allowed) {
                return false;
            }
        }
        return true;
    }

    private static String where(Event event) {
        return event.getStartMark().map(StrictYaml::where).orElse("(document)");
    }

    private static String where(Mark mark) {
        return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }
}
