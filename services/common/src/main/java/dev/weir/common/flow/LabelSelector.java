package dev.weir.common.flow;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A label selector as Hubble's --label and the Observer API's source_label/destination_label take
 * it: requirements separated by commas, all of which must hold ({@code app=cart},
 * {@code app!=cart}, {@code app}, {@code !app}, {@code app in (cart,api)}, {@code app notin (x)}),
 * each key with an optional source ({@code k8s:app=cart}, {@code reserved:world}); a key without a
 * source, or with {@code any:}, matches a label of any source.
 *
 * <p>Labels on flows are {@code [source:]key[=value]}; Weir writes pod labels without a source,
 * and those are Kubernetes labels ({@code k8s}).
 *
 * <p>A selector comes from a client: its size is bounded, and one that is not a selector is an
 * {@link IllegalArgumentException} naming what is wrong.
 */
public final class LabelSelector {

    public static final int MAX_LENGTH = 1024;
    public static final int MAX_REQUIREMENTS = 32;

    private enum Operator { EQUALS, NOT_EQUALS, EXISTS, NOT_EXISTS, IN, NOT_IN }

    private record Key(String source, String name) {
        boolean matches(Label label) {
            return name.equals(label.name) && (source == null || source.equals("any") || source.equals(label.source));
        }
    }

    private record Requirement(Key key, Operator operator, Set<String> values) {
        boolean holds(List<Label> labels) {
            return switch (operator) {
                case EXISTS -> labels.stream().anyMatch(key::matches);
                case NOT_EXISTS -> labels.stream().noneMatch(key::matches);
                case EQUALS, IN -> labels.stream().anyMatch(l -> key.matches(l) && values.contains(l.value));
                case NOT_EQUALS, NOT_IN -> labels.stream().noneMatch(l -> key.matches(l) && values.contains(l.value));
            };
        }
    }

    /** A label of a flow, split: source (k8s when it has none), key, value ("" when it has none). */
    private record Label(String source, String name, String value) {
        static Label of(String label) {
            int eq = label.indexOf('=');
            int colon = label.indexOf(':');
            String source = colon >= 0 && (eq < 0 || colon < eq) ? label.substring(0, colon) : "k8s";
            String rest = colon >= 0 && (eq < 0 || colon < eq) ? label.substring(colon + 1) : label;
            int at = rest.indexOf('=');
            return at < 0 ? new Label(source, rest, "") : new Label(source, rest.substring(0, at), rest.substring(at + 1));
        }
    }

    private final List<Requirement> requirements;

    private LabelSelector(List<Requirement> requirements) {
        this.requirements = requirements;
    }

    /** Parsed selectors by text: the same few come with every flow of a query. Bounded. */
    private static final Map<String, LabelSelector> PARSED = new ConcurrentHashMap<>();
    private static final int PARSED_MAX = 1024;

    /** The selector, parsed once and kept (while few are in use). */
    public static LabelSelector of(String selector) {
        LabelSelector parsed = PARSED.get(selector);
        if (parsed == null) {
            parsed = parse(selector);
            if (PARSED.size() >= PARSED_MAX) {
                PARSED.clear();
            }
            PARSED.put(selector, parsed);
        }
        return parsed;
    }

    public static LabelSelector parse(String selector) {
        if (selector.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("a label selector is at most " + MAX_LENGTH + " characters");
        }
        List<String> parts = split(selector);
        if (parts.size() > MAX_REQUIREMENTS) {
            throw new IllegalArgumentException("a label selector has at most " + MAX_REQUIREMENTS + " requirements");
        }
        List<Requirement> requirements = new ArrayList<>();
        for (String part : parts) {
            requirements.add(requirement(part.strip(), selector));
        }
        return new LabelSelector(List.copyOf(requirements));
    }

    /** Splits at commas outside parentheses: "a in (x,y),b" is two requirements. */
    private static List<String> split(String selector) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < selector.length(); i++) {
            char c = selector.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(selector.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(selector.substring(start));
        return parts;
    }

    private static Requirement requirement(String part, String selector) {
        if (part.isEmpty()) {
            throw new IllegalArgumentException("'" + selector + "' has an empty requirement");
        }
        if (part.startsWith("!")) {
            return new Requirement(key(part.substring(1).strip(), selector), Operator.NOT_EXISTS, Set.of());
        }
        java.util.regex.Matcher set = java.util.regex.Pattern.compile("^(\\S+)\\s+(in|notin)\\s*\\((.*)\\)$").matcher(part);
        if (set.matches()) {
            Set<String> values = new java.util.HashSet<>();
            for (String v : set.group(3).split(",", -1)) {
                values.add(value(v.strip(), selector));
            }
            return new Requirement(key(set.group(1), selector), set.group(2).equals("in") ? Operator.IN : Operator.NOT_IN,
                    Set.copyOf(values));
        }
        int ne = part.indexOf("!=");
        if (ne > 0) {
            return new Requirement(key(part.substring(0, ne).strip(), selector), Operator.NOT_EQUALS,
                    Set.of(value(part.substring(ne + 2).strip(), selector)));
        }
        int eq = part.indexOf('=');
        if (eq > 0) {
            String value = part.substring(part.startsWith("==", eq) ? eq + 2 : eq + 1).strip();
            return new Requirement(key(part.substring(0, eq).strip(), selector), Operator.EQUALS, Set.of(value(value, selector)));
        }
        return new Requirement(key(part, selector), Operator.EXISTS, Set.of());
    }

    private static final java.util.regex.Pattern KEY =
            java.util.regex.Pattern.compile("([a-z0-9-]+:)?([A-Za-z0-9][-A-Za-z0-9_./]*)");
    private static final java.util.regex.Pattern VALUE = java.util.regex.Pattern.compile("[-A-Za-z0-9_.]*");

    private static Key key(String key, String selector) {
        java.util.regex.Matcher m = KEY.matcher(key);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + selector + "': '" + key + "' is not a label key");
        }
        String source = m.group(1) == null ? null : m.group(1).substring(0, m.group(1).length() - 1);
        return new Key(source, m.group(2));
    }

    private static String value(String value, String selector) {
        if (!VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("'" + selector + "': '" + value + "' is not a label value");
        }
        return value;
    }

    /** Whether labels (a flow endpoint's) satisfy every requirement. */
    public boolean matches(List<String> labels) {
        List<Label> split = new ArrayList<>(labels.size());
        for (String label : labels) {
            split.add(Label.of(label));
        }
        for (Requirement r : requirements) {
            if (!r.holds(split)) {
                return false;
            }
        }
        return true;
    }
}
