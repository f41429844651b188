package dev.weir.relay;

/** A request the relay refuses with 400, naming the parameter at fault. */
final class BadRequest extends RuntimeException {

    final String field;

    BadRequest(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }
}
