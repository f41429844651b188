package dev.weir.common.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * What every Weir REST API answers when a request is wrong before a controller could say so
 * itself: a 400 naming the parameter (a number that is not one, a missing parameter, a body
 * that is not JSON), as an RFC 9457 problem with Weir's "error" and "field" members besides the
 * standard ones. A service's own handlers (a policy or rule that is invalid) come first.
 */
@RestControllerAdvice
@Order(Ordered.LOWEST_PRECEDENCE)
public class ApiProblems {

    private static final Logger LOG = LoggerFactory.getLogger(ApiProblems.class);

    /** A problem with Weir's members: the message, and the field or parameter at fault. */
    public static ProblemDetail problem(HttpStatus status, String message, String field) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, message);
        problem.setProperty("error", message);
        problem.setProperty("field", field == null ? "" : field);
        return problem;
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    public ProblemDetail typeMismatch(MethodArgumentTypeMismatchException e) {
        String value = String.valueOf(e.getValue());
        return problem(HttpStatus.BAD_REQUEST, "'" + (value.length() > 80 ? value.substring(0, 80) + "…" : value)
                + "' is not a valid " + e.getName(), e.getName());
    }

    @ExceptionHandler(ApiParameters.UnknownParameters.class)
    public ProblemDetail unknownParameters(ApiParameters.UnknownParameters e) {
        return problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.unknown().get(0));
    }

    @ExceptionHandler(MissingServletRequestParameterException.class)
    public ProblemDetail missing(MissingServletRequestParameterException e) {
        return problem(HttpStatus.BAD_REQUEST, "is required", e.getParameterName());
    }

    @ExceptionHandler(HttpMessageNotReadableException.class)
    public ProblemDetail unreadable(HttpMessageNotReadableException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof RequestBodyLimit.BodyTooLarge tooLarge) {
                return problem(HttpStatus.CONTENT_TOO_LARGE, tooLarge.getMessage(), "(body)");
            }
        }
        LOG.debug("unreadable request body: {}", e.getMessage());
        return problem(HttpStatus.BAD_REQUEST, "the request body is not what this endpoint reads (JSON or YAML as "
                + "documented)", "(body)");
    }

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    public ProblemDetail mediaType(HttpMediaTypeNotSupportedException e) {
        return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + e.getContentType() + " is not accepted here; "
                + "use one of " + e.getSupportedMediaTypes(), "Content-Type");
    }

    @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
    public ProblemDetail method(HttpRequestMethodNotSupportedException e) {
        return problem(HttpStatus.METHOD_NOT_ALLOWED, e.getMethod() + " is not allowed here", "");
    }
}
