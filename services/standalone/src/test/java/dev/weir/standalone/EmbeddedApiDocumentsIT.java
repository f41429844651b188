package dev.weir.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.platform.PlatformConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every service's OpenAPI document as a client generator reads it: every operation summarised,
 * every parameter real (the relay's flow filters by their wire names, not one object), typed and
 * described, the errors as problem details, the bearer scheme required; and a parameter an
 * endpoint does not take refused with a 400 naming it instead of being ignored.
 */
class EmbeddedApiDocumentsIT {

    static EmbeddedWeir weir;
    static Map<String, Integer> services;
    static HttpClient http;
    static final JsonMapper JSON = JsonMapper.builder().build();

    @BeforeAll
    static void start() throws Exception {
        Path dir = Path.of("target", "it-api-" + Integer.toHexString(ThreadLocalRandom.current().nextInt())).toAbsolutePath();
        weir = EmbeddedWeir.start(PlatformConfig.onFreePorts(dir), dir, EmbeddedWeir.Ports.free(), false);
        services = Map.of("policy", weir.policyPort(), "dns", weir.dnsPort(), "alerting", weir.alertingPort(),
                "relay", weir.relayPort());
        http = HttpClient.newBuilder().sslContext(weir.platform().clientTls()).build();
    }

    @AfterAll
    static void stop() {
        if (weir != null) {
            weir.close();
        }
    }

    static HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(EmbeddedWeir.url(port) + path))
                .header("Authorization", "Bearer " + weir.platform().apiToken()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyDocumentDescribesItsOperationsParametersErrorsAndSecurity() throws Exception {
        for (Map.Entry<String, Integer> service : services.entrySet()) {
            HttpResponse<String> answer = get(service.getValue(), "/v3/api-docs");
            assertThat(answer.statusCode()).as(service.getKey()).isEqualTo(200);
            JsonNode document = JSON.readTree(answer.body());
            assertThat(document.at("/info/title").asString()).as(service.getKey()).startsWith("Weir ");
            assertThat(document.at("/components/securitySchemes/bearer/scheme").asString()).isEqualTo("bearer");
            assertThat(document.at("/security/0/bearer").isArray()).as(service.getKey()).isTrue();
            assertThat(document.at("/components/schemas/Problem/properties/field").isObject()).isTrue();
            List<String> faults = new ArrayList<>();
            int operations = 0;
            for (var path : document.get("paths").properties()) {
                for (var operation : path.getValue().properties()) {
                    String where = service.getKey() + " " + operation.getKey().toUpperCase() + " " + path.getKey();
                    operations++;
                    JsonNode op = operation.getValue();
                    if (op.path("summary").asString("").isBlank()) {
                        faults.add(where + ": no summary");
                    }
                    for (JsonNode parameter : op.path("parameters")) {
                        String name = parameter.path("name").asString();
                        if (parameter.path("description").asString("").isBlank()) {
                            faults.add(where + " " + name + ": no description");
                        }
                        if (!parameter.path("schema").has("type")) {
                            faults.add(where + " " + name + ": no type");
                        }
                        if (!name.equals(name.toLowerCase()) && !name.equals("dryRun")) {
                            faults.add(where + " " + name + ": not a wire name");
                        }
                    }
                    for (String status : List.of("400", "401", "403", "500")) {
                        if (!op.at("/responses/" + status + "/content/application~1problem+json/schema/$ref").asString("")
                                .equals("#/components/schemas/Problem")) {
                            faults.add(where + ": " + status + " is not a problem");
                        }
                    }
                }
            }
            assertThat(operations).as(service.getKey()).isGreaterThanOrEqualTo(3);
            assertThat(faults).as(service.getKey()).isEmpty();
        }
        // The relay's flow filters: separate query parameters with their wire names and types.
        JsonNode relay = JSON.readTree(get(weir.relayPort(), "/v3/api-docs").body());
        List<String> names = new ArrayList<>();
        relay.at("/paths/~1api~1v1~1flows/get/parameters").forEach(p -> names.add(p.get("name").asString()));
        assertThat(names).contains("since", "until", "last", "first", "from_pod", "to_pod", "pod", "verdict", "drop_reason",
                "to_fqdn", "traffic_direction", "page").doesNotContain("query", "fromPod");
        relay.at("/paths/~1api~1v1~1flows/get/parameters").forEach(p -> {
            if (p.get("name").asString().equals("from_pod")) {
                assertThat(p.at("/schema/type").asString()).isEqualTo("array");
                assertThat(p.at("/schema/items/type").asString()).isEqualTo("string");
            }
        });
    }

    @Test
    void aParameterNoEndpointTakesIsRefusedByName() throws Exception {
        Map<String, String> paths = Map.of("relay", "/api/v1/flows?since=5m&fromPod=shop/frontend",
                "policy", "/api/v1/policies?namespce=shop", "dns", "/api/v1/dns/health?since=5m&namespac=shop",
                "alerting", "/api/v1/alerting/alerts?stat=firing");
        for (Map.Entry<String, String> call : paths.entrySet()) {
            HttpResponse<String> answer = get(services.get(call.getKey()), call.getValue());
            assertThat(answer.statusCode()).as(call.getKey() + ": " + answer.body()).isEqualTo(400);
            String unknown = call.getValue().replaceAll(".*[?&]([A-Za-z_]+)=[^&]*$", "$1");
            assertThat(JSON.readTree(answer.body()).get("field").asString()).as(call.getKey()).isEqualTo(unknown);
            assertThat(answer.headers().firstValue("Content-Type").orElse("")).contains("application/problem+json");
        }
        // Through the relay's routes to a service, the same refusal.
        HttpResponse<String> proxied = get(weir.relayPort(), "/api/v1/dns/health?bogus=1");
        assertThat(proxied.statusCode()).isEqualTo(400);
        assertThat(proxied.body()).contains("\"field\":\"bogus\"");
        // What the endpoints do take still works.
        assertThat(get(weir.relayPort(), "/api/v1/flows?since=5m&from_pod=shop/frontend&last=5").statusCode()).isEqualTo(200);
        assertThat(get(weir.dnsPort(), "/api/v1/dns/health?since=5m&namespace=shop").statusCode()).isEqualTo(200);
    }
}
