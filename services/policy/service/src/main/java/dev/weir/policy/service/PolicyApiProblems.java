package dev.weir.policy.service;

import dev.weir.common.web.ApiProblems;
import dev.weir.policy.model.PolicyParser;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** How the policy API refuses: a 400 naming the field at fault, a 409 for a change overtaken, a 503 while not ready. */
@RestControllerAdvice(assignableTypes = {PolicyController.class, StagedPolicyController.class})
class PolicyApiProblems {

    /** A change that another one overtook between reading and writing: look again, then decide. */
    static final class Conflict extends RuntimeException {
        Conflict(String message) {
            super(message);
        }
    }

    @ExceptionHandler(PolicyParser.InvalidPolicy.class)
    ProblemDetail invalid(PolicyParser.InvalidPolicy e) {
        return ApiProblems.problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.field());
    }

    @ExceptionHandler(Conflict.class)
    ProblemDetail conflict(Conflict e) {
        return ApiProblems.problem(HttpStatus.CONFLICT, e.getMessage(), "");
    }

    @ExceptionHandler(PropagationWatch.TooManyWaiters.class)
    ProblemDetail tooManyWaiters(PropagationWatch.TooManyWaiters e) {
        return ApiProblems.problem(HttpStatus.TOO_MANY_REQUESTS, e.getMessage(), "wait");
    }

    @ExceptionHandler(IllegalStateException.class)
    ProblemDetail notReady(IllegalStateException e) {
        return ApiProblems.problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), "");
    }
}
