package dev.weir.alerting.rules;

/** A rule that cannot be used: the field at fault and what is wrong with it. */
public final class InvalidRule extends RuntimeException {

    private final String field;

    public InvalidRule(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
