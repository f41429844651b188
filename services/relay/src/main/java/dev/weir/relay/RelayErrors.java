package dev.weir.relay;

import dev.weir.common.web.ApiProblems;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** 400 naming the parameter at fault and 503 when busy, for every relay endpoint, as RFC 9457 problems. */
@RestControllerAdvice
public class RelayErrors {

    @ExceptionHandler(FlowTail.TooManyFollowers.class)
    public ResponseEntity<ProblemDetail> busy(FlowTail.TooManyFollowers e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "30")
                .body(ApiProblems.problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), null));
    }

    @ExceptionHandler(FlowScan.Busy.class)
    public ResponseEntity<ProblemDetail> busy(FlowScan.Busy e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "5")
                .body(ApiProblems.problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), null));
    }

    /** A service behind the relay's gateway did not answer: said as such, without its internals. */
    @ExceptionHandler(org.springframework.web.client.ResourceAccessException.class)
    public ProblemDetail unreachable(org.springframework.web.client.ResourceAccessException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof dev.weir.common.web.RequestBodyLimit.BodyTooLarge tooLarge) {
                // The caller's body outgrew the limit while it was passed on: the caller's fault.
                return ApiProblems.problem(HttpStatus.CONTENT_TOO_LARGE, tooLarge.getMessage(), "(body)");
            }
            if (cause instanceof java.net.http.HttpTimeoutException) {
                return ApiProblems.problem(HttpStatus.GATEWAY_TIMEOUT, "the service behind this path did not answer in time", "");
            }
        }
        return ApiProblems.problem(HttpStatus.BAD_GATEWAY, "the service behind this path did not answer", "");
    }

    @ExceptionHandler(BadRequest.class)
    public ProblemDetail bad(BadRequest e) {
        return ApiProblems.problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.field);
    }
}
