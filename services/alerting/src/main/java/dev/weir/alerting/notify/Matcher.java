package dev.weir.alerting.notify;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.weir.alerting.rules.InvalidRule;
import java.util.Map;
import java.util.Set;

/**
 * A label matcher as Alertmanager writes them: name, =, !=, =~ or !~, value. Regular expressions
 * are RE2 (linear time in the label's length, whatever the pattern), anchored as Alertmanager
 * anchors them, and compiled once.
 */
public final class Matcher {

    /** Longer matchers are refused: a silence is a few labels, not a document. */
    public static final int MAX_LENGTH = 1024;
    private static final Set<String> OPERATORS = Set.of("=", "!=", "=~", "!~");

    private final String name;
    private final String op;
    private final String value;
    private final Pattern pattern;

    public Matcher(String name, String op, String value) {
        if (!OPERATORS.contains(op)) {
            throw new InvalidRule("matchers", "'" + op + "' is not one of =, !=, =~, !~");
        }
        if (name.length() + value.length() > MAX_LENGTH) {
            throw new InvalidRule("matchers", "a matcher is longer than " + MAX_LENGTH + " characters");
        }
        this.name = name;
        this.op = op;
        this.value = value;
        if (op.endsWith("~")) {
            long expanded = expandedSize(value);
            if (expanded > MAX_EXPANDED_SIZE) {
                throw new InvalidRule("matchers", "'" + abbreviate(value) + "' repeats too much (" + expanded
                        + " once its counts are expanded, at most " + MAX_EXPANDED_SIZE + ")");
            }
            try {
                this.pattern = Pattern.compile(value);
            } catch (PatternSyntaxException e) {
                throw new InvalidRule("matchers", "'" + value + "' is not a regular expression: " + e.getDescription());
            }
        } else {
            this.pattern = null;
        }
    }

    /**
     * Parses "name=value", "name!=value", "name=~regex" or "name!~regex" (the value optionally in
     * double quotes), in one pass over the text.
     */
    public static Matcher parse(String text) {
        if (text.length() > MAX_LENGTH + 16) {
            throw new InvalidRule("matchers", "a matcher is longer than " + MAX_LENGTH + " characters");
        }
        int i = skipSpaces(text, 0);
        int nameStart = i;
        while (i < text.length() && (Character.isLetter(text.charAt(i)) && text.charAt(i) < 128 || text.charAt(i) == '_'
                || i > nameStart && text.charAt(i) >= '0' && text.charAt(i) <= '9')) {
            i++;
        }
        String name = text.substring(nameStart, i);
        i = skipSpaces(text, i);
        String op = text.startsWith("=~", i) ? "=~" : text.startsWith("!~", i) ? "!~" : text.startsWith("!=", i) ? "!="
                : text.startsWith("=", i) ? "=" : null;
        if (name.isEmpty() || op == null) {
            throw new InvalidRule("matchers", "'" + abbreviate(text) + "' is not name=value, name!=value, name=~regex or "
                    + "name!~regex");
        }
        String value = text.substring(skipSpaces(text, i + op.length())).strip();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            value = value.substring(1, value.length() - 1);
        }
        return new Matcher(name, op, value);
    }

    /**
     * RE2 compiles a counted repeat by copying its operand, so nested counts multiply:
     * (?:(?:x{1000}){1000}){1000} is a billion instructions in 27 characters. The pattern's size
     * after expansion is estimated and capped.
     */
    static final long MAX_EXPANDED_SIZE = 10_000;

    /**
     * The pattern's size once every counted repeat is expanded: each atom (a character, an escape,
     * a class) counts 1, a group the sum of its parts, and {n}, {n,} or {n,m} multiplies what it
     * follows by its upper bound (n+1 when there is none). Side by side, sizes add up.
     */
    static long expandedSize(String pattern) {
        java.util.ArrayDeque<long[]> groups = new java.util.ArrayDeque<>(); // {size so far} of each open group
        long size = 0;
        long last = 0; // the size of the atom or group just before, which a count repeats
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '\\' -> {
                    i++;
                    last = 1;
                    size += 1;
                }
                case '[' -> {
                    int j = i + 1;
                    if (j < pattern.length() && pattern.charAt(j) == '^') {
                        j++;
                    }
                    if (j < pattern.length() && pattern.charAt(j) == ']') {
                        j++;
                    }
                    while (j < pattern.length() && pattern.charAt(j) != ']') {
                        j += pattern.charAt(j) == '\\' ? 2 : 1;
                    }
                    i = j;
                    last = 1;
                    size += 1;
                }
                case '(' -> {
                    groups.push(new long[] {size});
                    size = 0;
                    last = 0;
                }
                case ')' -> {
                    long group = size;
                    size = (groups.isEmpty() ? 0 : groups.pop()[0]) + group;
                    last = group;
                }
                case '{' -> {
                    int close = pattern.indexOf('}', i);
                    String inside = close < 0 ? "" : pattern.substring(i + 1, close);
                    if (inside.matches("\\d{1,9}(,\\d{0,9})?")) {
                        String[] bounds = inside.split(",", -1);
                        long bound = bounds.length == 2 && !bounds[1].isEmpty() ? Long.parseLong(bounds[1])
                                : Long.parseLong(bounds[0]) + (bounds.length == 2 ? 1 : 0);
                        long repeated = Math.min(Long.MAX_VALUE / 4, last * Math.max(1, bound));
                        size = Math.min(Long.MAX_VALUE / 4, size - last + repeated);
                        last = repeated;
                        i = close;
                    } else {
                        last = 1; // a literal brace
                        size += 1;
                    }
                }
                default -> {
                    last = 1;
                    size += 1;
                }
            }
            if (size > MAX_EXPANDED_SIZE * 1000) {
                return size;
            }
        }
        while (!groups.isEmpty()) {
            size += groups.pop()[0];
        }
        return size;
    }

    private static int skipSpaces(String text, int i) {
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "…";
    }

    public String name() {
        return name;
    }

    public String op() {
        return op;
    }

    public String value() {
        return value;
    }

    public boolean matches(Map<String, String> labels) {
        String actual = labels.getOrDefault(name, "");
        return switch (op) {
            case "=" -> actual.equals(value);
            case "!=" -> !actual.equals(value);
            case "=~" -> pattern.matches(actual);
            default -> !pattern.matches(actual);
        };
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Matcher m && m.name.equals(name) && m.op.equals(op) && m.value.equals(value);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(name, op, value);
    }

    @Override
    public String toString() {
        return name + op + value;
    }
}
