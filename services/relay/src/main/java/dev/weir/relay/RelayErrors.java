package dev.weir.relay;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** 400 naming the parameter at fault, for every relay endpoint. */
@RestControllerAdvice
public class RelayErrors {

    public record Problem(String error, String field) {
    }

    @ExceptionHandler(FlowTail.TooManyFollowers.class)
    public ResponseEntity<Problem> busy(FlowTail.TooManyFollowers e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "30")
                .body(new Problem(e.getMessage(), null));
    }

    @ExceptionHandler(FlowScan.Busy.class)
    public ResponseEntity<Problem> busy(FlowScan.Busy e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "5")
                .body(new Problem(e.getMessage(), null));
    }

    @ExceptionHandler(BadRequest.class)
    public ResponseEntity<Problem> bad(BadRequest e) {
        return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(new Problem(e.getMessage(), e.field));
    }
}
