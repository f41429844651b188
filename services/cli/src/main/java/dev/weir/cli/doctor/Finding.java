package dev.weir.cli.doctor;

/** One thing the doctor looked at: what it found and, unless all is well, how to fix it. */
public record Finding(String check, Severity severity, String message, String fix) {

    public enum Severity { OK, WARN, FAIL }

    static Finding ok(String check, String message) {
        return new Finding(check, Severity.OK, message, "");
    }

    static Finding warn(String check, String message, String fix) {
        return new Finding(check, Severity.WARN, message, fix);
    }

    static Finding fail(String check, String message, String fix) {
        return new Finding(check, Severity.FAIL, message, fix);
    }
}
