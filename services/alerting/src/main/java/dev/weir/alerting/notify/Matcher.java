package dev.weir.alerting.notify;

import dev.weir.alerting.rules.InvalidRule;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** A label matcher as Alertmanager writes them: name, =, !=, =~ or !~, value. */
public record Matcher(String name, String op, String value) {

    public Matcher {
        if (!java.util.Set.of("=", "!=", "=~", "!~").contains(op)) {
            throw new InvalidRule("matchers", "'" + op + "' is not one of =, !=, =~, !~");
        }
        if (op.endsWith("~")) {
            try {
                Pattern.compile(value);
            } catch (PatternSyntaxException e) {
                throw new InvalidRule("matchers", "'" + value + "' is not a regular expression: " + e.getDescription());
            }
        }
    }

    /** Parses "name=value", "name!=value", "name=~regex" or "name!~regex". */
    public static Matcher parse(String text) {
        java.util.regex.Matcher m = Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"?(.*?)\"?\\s*").matcher(text);
        if (!m.matches()) {
            throw new InvalidRule("matchers", "'" + text + "' is not name=value, name!=value, name=~regex or name!~regex");
        }
        return new Matcher(m.group(1), m.group(2), m.group(3));
    }

    public boolean matches(Map<String, String> labels) {
        String actual = labels.getOrDefault(name, "");
        return switch (op) {
            case "=" -> actual.equals(value);
            case "!=" -> !actual.equals(value);
            case "=~" -> actual.matches(value);
            default -> !actual.matches(value);
        };
    }

    @Override
    public String toString() {
        return name + op + value;
    }
}
