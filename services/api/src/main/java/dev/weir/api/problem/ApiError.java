package dev.weir.api.problem;

/** What every refusal carries besides RFC 9457's members: the message and the field or parameter at fault. */
public record ApiError(String error, String field) {
}
