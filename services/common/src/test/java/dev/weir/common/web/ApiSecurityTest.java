package dev.weir.common.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.common.auth.BearerTokens;
import dev.weir.common.auth.Scope;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The shared REST security on a real servlet container: scopes, authors, and the body cap. */
class ApiSecurityTest {

    static final String ADMIN = "weir_admin-token-0123456789";
    static final String READER = "weir_reader-token-0123456789";
    static final String WRITER = "weir_writer-token-0123456789";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;
    static ConfigurableApplicationContext context;
    static String base;

    @SpringBootApplication
    @Import(ApiSecurity.class)
    @RestController
    static class App {
        @GetMapping("/api/v1/things")
        Map<String, String> things(Principal caller) {
            return Map.of("caller", caller.getName());
        }

        @PostMapping("/api/v1/things")
        Map<String, Object> change(@RequestBody String body, Principal author) {
            return Map.of("author", author.getName(), "bytes", body.length());
        }

        @PostMapping("/api/v1/explain")
        Map<String, String> explain(@RequestBody String body) {
            return Map.of("explained", "yes");
        }

        @GetMapping("/ui/index.html")
        String ui() {
            return "<html></html>";
        }
    }

    @BeforeAll
    static void start() throws Exception {
        Path tokens = dir.resolve("api-tokens");
        Files.writeString(tokens, "# name scope hash\n" + BearerTokens.line("reader", Scope.READ, READER) + "\n"
                + BearerTokens.line("ci-bot", Scope.WRITE, WRITER) + "\n");
        Path admin = dir.resolve("api-token");
        Files.writeString(admin, ADMIN + "\n");
        context = new SpringApplication(App.class).run("--server.port=0", "--server.address=127.0.0.1",
                "--weir.api-token-file=" + admin, "--weir.api-tokens-file=" + tokens, "--weir.max-request-bytes=4096",
                "--weir.public-paths=/ui/**", "--management.endpoints.web.exposure.include=health,env",
                "--spring.main.banner-mode=off");
        base = "http://127.0.0.1:" + ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    @AfterAll
    static void stop() {
        if (context != null) {
            context.close();
        }
    }

    @Test
    void noTokenOrAWrongOneIsRefused() throws Exception {
        assertThat(get("/api/v1/things", null).statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/things", "weir_not-a-token-0123456789").statusCode()).isEqualTo(401);
        assertThat(get("/actuator/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/ui/index.html", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aReadTokenReadsAndExplainsButChangesNothing() throws Exception {
        HttpResponse<String> read = get("/api/v1/things", READER);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).contains("\"caller\":\"reader\"");
        assertThat(post("/api/v1/explain", READER, "{}").statusCode()).isEqualTo(200);
        HttpResponse<String> change = post("/api/v1/things", READER, "x");
        assertThat(change.statusCode()).isEqualTo(403);
        assertThat(change.headers().firstValue("WWW-Authenticate").orElse("")).contains("insufficient_scope");
    }

    @Test
    void theAuthorOfAChangeIsTheTokensNameWhateverTheClientClaims() throws Exception {
        HttpResponse<String> change = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/things"))
                .header("Authorization", "Bearer " + WRITER).header("X-Weir-Author", "someone-else")
                .POST(HttpRequest.BodyPublishers.ofString("hello")));
        assertThat(change.statusCode()).isEqualTo(200);
        assertThat(change.body()).contains("\"author\":\"ci-bot\"");
    }

    @Test
    void managementEndpointsTakeTheAdminScope() throws Exception {
        assertThat(get("/actuator/env", WRITER).statusCode()).isEqualTo(403);
        assertThat(get("/actuator/env", ADMIN).statusCode()).isEqualTo(200);
    }

    @Test
    void anOversizedBodyIs413BeforeAnythingReadsIt() throws Exception {
        HttpResponse<String> declared = post("/api/v1/things", WRITER, "x".repeat(5000));
        assertThat(declared.statusCode()).isEqualTo(413);
        // Chunked, with no length declared: cut off at the cap.
        byte[] chunk = "y".repeat(1000).getBytes();
        HttpResponse<String> chunked = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/things"))
                .header("Authorization", "Bearer " + WRITER)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
                    int sent;

                    @Override
                    public int read() {
                        return sent++ < 50_000 ? chunk[sent % chunk.length] : -1;
                    }
                })));
        assertThat(chunked.statusCode()).isEqualTo(413);
        assertThat(post("/api/v1/things", WRITER, "x".repeat(4000)).statusCode()).isEqualTo(200);
        // An unauthenticated oversized body is refused unread too.
        assertThat(post("/api/v1/things", null, "x".repeat(5000)).statusCode()).isEqualTo(413);
    }

    private static HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request);
    }

    private static HttpResponse<String> post(String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "text/plain");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return send(request);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
