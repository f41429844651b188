package dev.weir.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One of Weir's REST APIs, called with the API token. Failures become exit codes scripts can use:
 * a refused request (4xx) is {@link #REFUSED}, an unreachable or failing service (5xx, no answer)
 * {@link #UNAVAILABLE}.
 */
final class Api {

    static final int REFUSED = 1;
    static final int UNAVAILABLE = 3;
    /** Lenient about fields: a newer service may answer with more, an older one with fewer (0, false, null). */
    static final JsonMapper JSON = JsonMapper.builder()
            .disable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(tools.jackson.databind.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES).build();

    /** An answer read as the API's own type (dev.weir.api), as the service wrote it. */
    static <T> T read(JsonNode json, Class<T> type) {
        try {
            return JSON.treeToValue(json, type);
        } catch (RuntimeException e) {
            throw new Failure(UNAVAILABLE, "the service answered with something other than a " + type.getSimpleName()
                    + ": " + e.getMessage());
        }
    }

    /** A call that did not succeed, with the exit code it means and what to tell the user. */
    static final class Failure extends RuntimeException {
        final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    private final String base;
    private final String token;
    private final HttpClient http;

    Api(String base, String token, HttpClient http) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
        this.http = http;
    }

    static String token(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new Failure(Api.REFUSED, "cannot read the API token from " + file + " (--token-file or WEIR_TOKEN_FILE): "
                    + e.getMessage());
        }
    }

    /** A TLS failure: almost always a server certificate this client was not told to trust. */
    private Failure untrusted(javax.net.ssl.SSLException e) {
        return new Failure(UNAVAILABLE, base + ": TLS failed (" + e.getMessage() + "); is the server's CA given with "
                + "--ca-cert or WEIR_CA_CERT, and is the URL https://?");
    }

    static String query(Map<String, String> params) {
        String q = params.entrySet().stream().filter(e -> e.getValue() != null)
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return q.isEmpty() ? "" : "?" + q;
    }

    JsonNode get(String path) {
        return send("GET", path, null, null);
    }

    JsonNode post(String path, String contentType, String body) {
        return send("POST", path, contentType, body);
    }

    JsonNode delete(String path) {
        return send("DELETE", path, null, null);
    }

    /** A stream of JSON lines (NDJSON), read until the server ends it; blank keep-alive lines skipped. */
    java.util.stream.Stream<JsonNode> lines(String path) {
        return lines(path, headers -> { });
    }

    /** As {@link #lines(String)}, with the answer's headers (a page token) before its lines are read. */
    java.util.stream.Stream<JsonNode> lines(String path, java.util.function.Consumer<java.net.http.HttpHeaders> headers) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
                .GET().build();
        HttpResponse<java.util.stream.Stream<String>> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofLines());
        } catch (javax.net.ssl.SSLException e) {
            throw untrusted(e);
        } catch (IOException e) {
            throw new Failure(UNAVAILABLE, "cannot reach " + base + " (is it running? ./weir status)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(UNAVAILABLE, "interrupted");
        }
        if (response.statusCode() == 401) {
            throw new Failure(REFUSED, "the API token was refused (--token-file or WEIR_TOKEN_FILE)");
        }
        if (response.statusCode() >= 400) {
            String detail = response.body().collect(Collectors.joining("\n"));
            throw new Failure(response.statusCode() < 500 ? REFUSED : UNAVAILABLE, detail);
        }
        headers.accept(response.headers());
        return response.body().filter(line -> !line.isBlank()).map(JSON::readTree);
    }

    JsonNode send(String method, String path, String contentType, String body) {
        return send(method, path, contentType, body, Duration.ofSeconds(60));
    }

    /** A GET the service may hold for a while (a status with wait): the client waits longer than it. */
    JsonNode get(String path, Duration timeout) {
        return send("GET", path, null, null, timeout);
    }

    JsonNode send(String method, String path, String contentType, String body, Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new Failure(UNAVAILABLE, "cannot reach " + base + " (is it running? ./weir status)");
        } catch (javax.net.ssl.SSLException e) {
            throw untrusted(e);
        } catch (IOException e) {
            throw new Failure(UNAVAILABLE, base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(UNAVAILABLE, "interrupted");
        }
        int code = response.statusCode();
        if (code == 401) {
            throw new Failure(REFUSED, "the API token was refused (--token-file or WEIR_TOKEN_FILE)");
        }
        if (code == 404) {
            throw new Failure(REFUSED, "not found: " + path);
        }
        if (code >= 400) {
            String detail = response.body();
            try {
                dev.weir.api.problem.ApiError problem = JSON.readValue(detail, dev.weir.api.problem.ApiError.class);
                if (problem.error() != null) {
                    detail = problem.error();
                }
            } catch (RuntimeException notJson) {
                // the body as it came
            }
            throw new Failure(code < 500 ? REFUSED : UNAVAILABLE, detail);
        }
        return response.body().isBlank() ? JSON.nullNode() : JSON.readTree(response.body());
    }
}
