package dev.weir.alerting.rules;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Label and annotation templates in Prometheus' style, reduced to what alert texts use:
 * {@code {{ $labels.name }}} and {@code {{ $value }}}. Anything else in braces is an error when
 * the rule is parsed, not when the alert fires.
 */
public final class Template {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([^}]*?)\\s*}}");
    private static final Pattern LABEL = Pattern.compile("\\$labels\\.([A-Za-z_][A-Za-z0-9_]*)");

    private Template() {
    }

    /** Checks a template; throws InvalidRule naming the field. */
    public static void check(String field, String template) {
        if (template.contains("{{") && !PLACEHOLDER.matcher(template).find()) {
            throw new InvalidRule(field, "unclosed '{{'");
        }
        Matcher m = PLACEHOLDER.matcher(template);
        while (m.find()) {
            String expression = m.group(1);
            if (!expression.equals("$value") && !LABEL.matcher(expression).matches()) {
                throw new InvalidRule(field, "'{{ " + expression + " }}' is neither {{ $value }} nor {{ $labels.<name> }}");
            }
        }
        int open = template.split("\\{\\{", -1).length - 1;
        int close = template.split("}}", -1).length - 1;
        if (open != close) {
            throw new InvalidRule(field, "unbalanced '{{' and '}}'");
        }
    }

    public static String render(String template, Map<String, String> labels, double value) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String expression = m.group(1);
            String replacement;
            if (expression.equals("$value")) {
                replacement = value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
                        : String.format(Locale.ROOT, "%.3g", value);
            } else {
                Matcher label = LABEL.matcher(expression);
                replacement = label.matches() ? labels.getOrDefault(label.group(1), "") : "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }
}
