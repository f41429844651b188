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
            long repeats = countedRepeats(value);
            if (repeats > MAX_REPEAT_PRODUCT) {
                throw new InvalidRule("matchers", "'" + abbreviate(value) + "' repeats too much ({n} counts multiply to "
                        + repeats + ", at most " + MAX_REPEAT_PRODUCT + ")");
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
     * (?:(?:x{1000}){1000}){1000} is a billion instructions. Their product is capped.
     */
    static final long MAX_REPEAT_PRODUCT = 1000;

    /** The product of every counted repeat's bound in the pattern ({n}, {n,}, {n,m}), nested or not. */
    static long countedRepeats(String pattern) {
        long product = 1;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\') {
                i++; // an escaped character, \{ included
                continue;
            }
            if (c != '{') {
                continue;
            }
            int close = pattern.indexOf('}', i);
            if (close < 0) {
                break;
            }
            String inside = pattern.substring(i + 1, close);
            if (inside.matches("\\d{1,9}(,\\d{0,9})?")) {
                String[] bounds = inside.split(",", -1);
                long bound = bounds.length == 2 && !bounds[1].isEmpty() ? Long.parseLong(bounds[1])
                        : Long.parseLong(bounds[0]) + (bounds.length == 2 ? 1 : 0);
                product = Math.min(Long.MAX_VALUE / 2, product * Math.max(1, bound));
                if (product > MAX_REPEAT_PRODUCT * 1000) {
                    return product;
                }
            }
            i = close;
        }
        return product;
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
