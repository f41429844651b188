package dev.weir.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against a stand-in API: what it sends, what it prints, how it exits. */
class WeirCliTest {

    record Call(String method, String uri, String authorization, String contentType, String body) {
    }

    HttpServer server;
    final List<Call> calls = new CopyOnWriteArrayList<>();
    volatile int status = 200;
    volatile String response = "{}";
    Path token;

    @BeforeEach
    void start(@TempDir Path dir) throws Exception {
        token = dir.resolve("api-token");
        Files.writeString(token, "weir_test_token\n");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/", exchange -> {
            calls.add(new Call(exchange.getRequestMethod(), exchange.getRequestURI().toString(),
                    exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestHeaders().getFirst("Content-Type"),
                    new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            byte[] body = response.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    record Result(int exit, String out, String err) {
    }

    Result run(String... args) {
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        String[] all = new String[args.length + 8];
        System.arraycopy(new String[] {"--policy-api", api, "--dns-api", api, "--alerting-api", api, "--token-file",
            token.toString()}, 0, all, 0, 8);
        System.arraycopy(args, 0, all, 8, args.length);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Weir.run(all, new PrintWriter(out), new PrintWriter(err));
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void policyApplySendsTheFileWithTheTokenAndPrintsTheLintWarnings(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("lockdown.yaml");
        Files.writeString(policy, "kind: NetworkPolicy\n");
        response = """
                {"dryRun":false,"applied":[{"kind":"NetworkPolicy","namespace":"shop","name":"lockdown","revision":3,"changed":true}],
                 "warnings":[{"policy":"NetworkPolicy/shop/lockdown","field":"spec.egress","message":"isolates egress without allowing DNS"}]}
                """;
        Result result = run("policy", "apply", "-f", policy.toString());
        assertThat(result.exit()).isZero();
        assertThat(result.out()).contains("applied NetworkPolicy/shop/lockdown (revision 3)")
                .contains("warning: NetworkPolicy/shop/lockdown spec.egress: isolates egress without allowing DNS");
        Call call = calls.get(0);
        assertThat(call.method()).isEqualTo("POST");
        assertThat(call.uri()).isEqualTo("/api/v1/policies");
        assertThat(call.authorization()).isEqualTo("Bearer weir_test_token");
        assertThat(call.contentType()).isEqualTo("application/yaml");
        assertThat(call.body()).isEqualTo("kind: NetworkPolicy\n");
    }

    @Test
    void applyWithWaitAsksTheStatusOfEachAppliedRevisionAndExitsFourUnlessEnforcedEverywhere(@TempDir Path dir)
            throws Exception {
        Path policy = dir.resolve("lockdown.yaml");
        Files.writeString(policy, "kind: NetworkPolicy\n");
        String applied = """
                {"dryRun":false,"applied":[{"kind":"NetworkPolicy","namespace":"shop","name":"lockdown","revision":3,"changed":true}],
                 "warnings":[]}
                """;
        server.createContext("/api/v1/policies/NetworkPolicy/shop/lockdown/status", exchange -> {
            calls.add(new Call(exchange.getRequestMethod(), exchange.getRequestURI().toString(), null, null, ""));
            byte[] body = ("{\"kind\":\"NetworkPolicy\",\"namespace\":\"shop\",\"name\":\"lockdown\",\"revision\":3,"
                    + "\"endpoints\":2,\"enforced\":" + (response.contains("all") ? 2 : 1)
                    + ",\"nodesBehind\":" + (response.contains("all") ? "[]" : "[\"node-b\"]") + ",\"details\":[],"
                    + "\"settled\":" + response.contains("all") + "}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        response = applied.replace("\"warnings\"", "\"all\":1,\"warnings\"");
        Result everywhere = run("policy", "apply", "-f", policy.toString(), "--wait", "30");
        assertThat(everywhere.exit()).isZero();
        assertThat(everywhere.out()).contains("applied NetworkPolicy/shop/lockdown (revision 3)")
                .contains("NetworkPolicy/shop/lockdown (revision 3): enforced on 2 of 2 endpoints after");
        assertThat(calls.get(1).uri()).isEqualTo("/api/v1/policies/NetworkPolicy/shop/lockdown/status?wait=30&revision=3");

        response = applied;
        Result behind = run("policy", "apply", "-f", policy.toString(), "--wait", "30");
        assertThat(behind.exit()).isEqualTo(4);
        assertThat(behind.out()).contains("still propagating; enforced on 1 of 2 endpoints; nodes behind: node-b");
        assertThat(run("policy", "apply", "-f", policy.toString(), "--wait", "61").exit()).isEqualTo(2);
    }

    @Test
    void aRefusedRequestExitsOneWithTheFieldAtFault(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("bad.yaml");
        Files.writeString(policy, "kind: NetworkPolicy\n");
        status = 400;
        response = "{\"error\":\"spec.ingress[0].ports[0].port: 70000 is out of range 1-65535\",\"field\":\"spec.ingress[0].ports[0].port\"}";
        Result result = run("policy", "apply", "-f", policy.toString());
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("weir: spec.ingress[0].ports[0].port: 70000 is out of range 1-65535");
    }

    @Test
    void anUnreachableServiceExitsThree() {
        server.stop(0);
        Result result = run("dns", "health");
        assertThat(result.exit()).isEqualTo(3);
        assertThat(result.err()).contains("cannot reach");
    }

    @Test
    void dnsHealthIsATableAndJsonOnRequest() {
        response = "[{\"namespace\":\"shop\",\"pod\":\"\",\"queries\":32,\"nxdomain\":27,\"servfail\":0,\"unanswered\":1,"
                + "\"dropped\":0,\"searchPathWasted\":6,\"latencyP95Ms\":12.5,\"activeInsights\":1}]";
        Result table = run("dns", "health", "--since", "1h");
        assertThat(table.exit()).isZero();
        assertThat(table.out().lines().toList().get(0)).startsWith("NAMESPACE").contains("NXDOMAIN").contains("P95 MS");
        assertThat(table.out()).contains("shop").contains("27").contains("12.500");
        assertThat(calls.get(0).uri()).isEqualTo("/api/v1/dns/health?since=1h");
        Result json = run("-o", "json", "dns", "health");
        assertThat(json.out()).contains("\"searchPathWasted\" : 6");
    }

    @Test
    void explainExitsByVerdictAndSilenceSendsItsMatchers() {
        response = """
                {"verdict":"DROPPED","port":9090,
                 "egress":{"pod":"shop/frontend","isolated":false,"allowed":true,"match":"NOT_ISOLATED","policy":"","deny":false},
                 "ingress":{"pod":"payments/api","isolated":true,"allowed":false,"match":"NONE","policy":"","deny":false,
                            "policies":[{"policy":"NetworkPolicy/payments/api-from-cart","rules":2,"matched":[]},
                                        {"policy":"WeirNetworkPolicy/payments/no-debug","rules":1,"matched":[]}]}}
                """;
        Result explain = run("policy", "explain", "--from", "shop/frontend", "--to", "payments/api", "--port", "grpc");
        assertThat(explain.exit()).isEqualTo(5);
        assertThat(explain.out()).contains("grpc (9090)/TCP: DROPPED")
                .contains("egress  shop/frontend: allowed: no policy isolates it for egress")
                .contains("ingress payments/api: denied: isolated for ingress, and no rule of the policies below matches")
                .contains("NetworkPolicy/payments/api-from-cart: none of its 2 ingress rules matches")
                .contains("WeirNetworkPolicy/payments/no-debug: none of its 1 ingress rule matches");
        assertThat(calls.get(calls.size() - 1).body()).contains("\"port\":\"grpc\"");
        response = "{\"id\":\"s-1\",\"endsAt\":\"2026-01-01T02:00:00Z\"}";
        Result silence = run("alerts", "silence", "alertname=DnsNxdomainRatio", "namespace=shop", "--duration", "2h",
                "--comment", "known", "--author", "ops");
        assertThat(silence.exit()).isZero();
        assertThat(calls.get(calls.size() - 1).body()).contains("\"matchers\":[\"alertname=DnsNxdomainRatio\",\"namespace=shop\"]")
                .contains("\"duration\":\"2h\"").contains("\"createdBy\":\"ops\"");
    }

    @Test
    void suggestPrintsAnApplicableDocumentWithItsPreviewAsComments() {
        response = """
                {"since":"2026-12-02T01:00:00Z","until":"2026-12-02T02:00:00Z","flowsRead":1200,"truncated":false,
                 "policies":[{"kind":"NetworkPolicy","namespace":"shop","name":"suggested-cart","workload":"shop/cart (Deployment)",
                              "yaml":"kind: NetworkPolicy\\n","rules":[]}],
                 "document":"apiVersion: networking.k8s.io/v1\\nkind: NetworkPolicy\\n",
                 "preview":{"since":"2026-12-02T01:00:00Z","flowsRead":1200,"connectionsJudged":7,"truncated":false,
                            "changes":[{"source":"shop/a","destination":"shop/b","port":80,"protocol":"TCP",
                                        "before":"FORWARDED","after":"DROPPED","flows":3}]},
                 "notes":["shop/x: its pods share no stable label"]}
                """;
        Result suggest = run("policy", "suggest", "--since", "1h", "-n", "shop");
        assertThat(calls.get(calls.size() - 1).uri()).isEqualTo("/api/v1/policies/suggestions?since=1h&namespace=shop");
        assertThat(suggest.exit()).isEqualTo(6);
        assertThat(suggest.out()).startsWith("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n# 1200 flows read")
                .contains("# preview over the same flows: 7 connections judged, 1 would change")
                .contains("#   shop/a -> shop/b 80/TCP: FORWARDED -> DROPPED (3 flows)")
                .contains("# note: shop/x: its pods share no stable label");
    }

    @Test
    void usageErrorsExitTwoAndHelpTeaches() {
        assertThat(run("policy", "explain", "--from", "a").exit()).isEqualTo(2);
        Result help = run("--help");
        assertThat(help.out()).contains("policy").contains("dns").contains("alerts").contains("Exit codes");
    }

    /** A flow of now: one the live stream may bring again (the history and the tail meet at the present). */
    static String flowJson(String uuid, String source) {
        return "{\"uuid\":\"" + uuid + "\",\"time\":\"" + java.time.Instant.now() + "\",\"node\":\"node-1\",\"verdict\":\"DROPPED\","
                + "\"dropReason\":\"POLICY_DENIED\",\"type\":\"DROP\",\"source\":\"" + source + "\",\"sourceIp\":\"198.18.1.10\","
                + "\"sourcePort\":40000,\"destination\":\"payments/api\",\"destinationIp\":\"198.18.2.10\","
                + "\"destinationPort\":9090,\"protocol\":\"TCP\",\"reply\":false,"
                + "\"policies\":[\"NetworkPolicy/payments/api-from-cart\"],\"dnsQuery\":\"\",\"summary\":\"TCP SYN\"}";
    }

    @Test
    void observeFollowOpensTheLiveStreamFirstAndPrintsEachFlowOnce() {
        server.createContext("/api/v1/flows/follow", exchange -> {
            calls.add(new Call("GET", exchange.getRequestURI().toString(), exchange.getRequestHeaders().getFirst("Authorization"),
                    null, ""));
            byte[] body = ("\n" + flowJson("u-1", "shop/frontend") + "\n{\"lost\":3}\n" + flowJson("u-2", "shop/cart") + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close(); // the stream ends: observe -f ends with it
        });
        response = "{\"flows\":[" + flowJson("u-1", "shop/frontend") + "],\"scanned\":10,\"undecodable\":0,"
                + "\"truncated\":false,\"next\":null}";
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        Result result = run("--relay-api", api, "observe", "--last", "1", "--verdict", "DROPPED", "-f",
                "--print-policy-names");

        assertThat(result.exit()).isZero();
        assertThat(calls).extracting(Call::uri).containsExactly("/api/v1/flows/follow?verdict=DROPPED",
                "/api/v1/flows?since=1h&last=1&verdict=DROPPED");
        assertThat(result.out().lines().filter(l -> l.contains("shop/frontend"))).hasSize(1);
        assertThat(result.out()).contains("shop/cart (198.18.1.10):40000 -> payments/api (198.18.2.10):9090")
                .contains("NetworkPolicy/payments/api-from-cart");
        assertThat(result.err()).contains("3 flows lost");
        assertThat(calls).allMatch(c -> "Bearer weir_test_token".equals(c.authorization()));
    }

    @Test
    void compactOutputReadsAsHubblesAndTheTrafficDirectionIsPassedOn() {
        response = """
                {"flows":[
                 {"uuid":"a","time":"2026-12-01T16:18:25.773Z","node":"node-1","verdict":"FORWARDED","dropReason":"",
                  "type":"NEW_CONNECTION","source":"shop/frontend","sourceIp":"198.18.1.10","sourcePort":35196,
                  "destination":"payments/api","destinationIp":"198.18.2.10","destinationPort":9090,"protocol":"TCP",
                  "reply":false,"policies":[],"dnsQuery":"","summary":"TCP Flags: SYN","observationPoint":"to-endpoint",
                  "trafficDirection":"ingress","sourceIdentity":257,"destinationIdentity":259},
                 {"uuid":"b","time":"2026-12-01T16:18:25.774Z","node":"node-1","verdict":"FORWARDED","dropReason":"",
                  "type":"DNS","source":"kube-system/coredns","sourceIp":"198.18.0.53","sourcePort":53,
                  "destination":"shop/frontend","destinationIp":"198.18.1.10","destinationPort":35196,"protocol":"UDP",
                  "reply":true,"policies":[],"dnsQuery":"cart.shop.svc.cluster.local.","summary":"DNS Answer",
                  "observationPoint":"from-endpoint","trafficDirection":"egress","sourceIdentity":256,"destinationIdentity":257}],
                 "scanned":2,"undecodable":0,"truncated":false,"next":null}
                """;
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        Result result = run("--relay-api", api, "observe", "--traffic-direction", "ingress");
        assertThat(result.exit()).isZero();
        assertThat(calls.get(calls.size() - 1).uri()).contains("traffic_direction=ingress");
        assertThat(result.out()).contains("[node-1]: shop/frontend (198.18.1.10):35196 (ID:257) -> payments/api (198.18.2.10):9090"
                + " (ID:259) to-endpoint FORWARDED (TCP Flags: SYN)");
        // A reply reads from the side that sent the request, as hubble prints it.
        assertThat(result.out()).contains("shop/frontend (198.18.1.10):35196 (ID:257) <- kube-system/coredns (198.18.0.53):53"
                + " (ID:256) dns-response FORWARDED (DNS Answer)");
    }

    /** /api/v1/flows answering each request (by its URI) with the page given, the calls recorded. */
    private void pages(java.util.function.Function<String, String> page) {
        server.createContext("/api/v1/flows", exchange -> {
            String uri = exchange.getRequestURI().toString();
            calls.add(new Call("GET", uri, exchange.getRequestHeaders().getFirst("Authorization"), null, ""));
            byte[] body = page.apply(uri).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
    }

    @Test
    void aTimeRangeAloneShowsEveryMatchPageByPageAsHubbleDoes() {
        // Two pages: the first answers with a token, the second (asked with it) without one.
        pages(uri -> uri.contains("page=t-2")
                ? "{\"flows\":[" + flowJson("u-2", "shop/cart") + "],\"next\":null}"
                : "{\"flows\":[" + flowJson("u-1", "shop/frontend") + "],\"next\":\"t-2\"}");
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        Result result = run("--relay-api", api, "observe", "--since", "10m");
        assertThat(result.exit()).isZero();
        assertThat(calls).extracting(Call::uri).containsExactly("/api/v1/flows?since=10m&first=" + Observe.PAGE,
                "/api/v1/flows?since=10m&first=" + Observe.PAGE + "&page=t-2");
        assertThat(result.out()).contains("shop/frontend").contains("shop/cart");

        // A relay that answers with the page it was asked for is not followed round; a page cut
        // short ends the reading with a warning rather than skipping flows.
        server.removeContext("/api/v1/flows");
        pages(uri -> uri.contains("since=2m")
                ? "{\"flows\":[" + flowJson("u-3", "shop/cart") + "],\"truncated\":true,\"scanned\":9,\"next\":\"t-4\"}"
                : "{\"flows\":[" + flowJson("u-3", "shop/cart") + "],\"next\":\"t-same\"}");
        calls.clear();
        Result looping = run("--relay-api", api, "observe", "--since", "10m");
        assertThat(looping.exit()).isEqualTo(3);
        assertThat(looping.err()).contains("same page");
        assertThat(calls).hasSize(2);
        calls.clear();
        Result cut = run("--relay-api", api, "observe", "--since", "2m");
        assertThat(cut.exit()).isZero();
        assertThat(cut.err()).contains("cut short after 9 flows read");
        assertThat(calls).hasSize(1);

        // With --last, one request: the last N of the range.
        calls.clear();
        assertThat(run("--relay-api", api, "observe", "--since", "10m", "--last", "5").exit()).isZero();
        assertThat(calls).extracting(Call::uri).containsExactly("/api/v1/flows?since=10m&last=5");
    }

    @Test
    void jsonpbPrintsTheRelaysHubbleExportAsItCame() {
        server.createContext("/api/v1/flows/export", exchange -> {
            calls.add(new Call("GET", exchange.getRequestURI().toString(), exchange.getRequestHeaders().getFirst("Authorization"),
                    null, ""));
            byte[] body = ("{\"flow\":{\"uuid\":\"a\",\"verdict\":\"DROPPED\"},\"node_name\":\"node-1\"}\n"
                    + "{\"flow\":{\"uuid\":\"b\",\"verdict\":\"FORWARDED\"},\"node_name\":\"node-2\"}\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        String api = "http://127.0.0.1:" + server.getAddress().getPort();
        Result result = run("--relay-api", api, "observe", "--last", "2", "--verdict", "DROPPED", "-o", "jsonpb");
        assertThat(result.exit()).isZero();
        assertThat(calls.get(calls.size() - 1).uri()).isEqualTo("/api/v1/flows/export?since=1h&last=2&verdict=DROPPED");
        assertThat(result.out().lines().toList()).containsExactly(
                "{\"flow\":{\"uuid\":\"a\",\"verdict\":\"DROPPED\"},\"node_name\":\"node-1\"}",
                "{\"flow\":{\"uuid\":\"b\",\"verdict\":\"FORWARDED\"},\"node_name\":\"node-2\"}");
        assertThat(run("--relay-api", api, "observe", "-f", "-o", "jsonpb").exit()).isEqualTo(1);
    }

    @Test
    void silencesAreListedAndExpiredAndAlertsShowTheirValueAndSummary() {
        response = "[{\"id\":\"s-1\",\"matchers\":[\"alertname=DnsNxdomainRatio\",\"pod=~cart-.*\"],"
                + "\"startsAt\":\"2026-01-01T00:00:00Z\",\"endsAt\":\"2026-01-01T02:00:00Z\",\"createdBy\":\"ops\","
                + "\"comment\":\"known\"}]";
        Result silences = run("alerts", "silences");
        assertThat(silences.exit()).isZero();
        assertThat(silences.out()).contains("s-1").contains("alertname=DnsNxdomainRatio,pod=~cart-.*").contains("known");
        response = "";
        Result expired = run("alerts", "expire", "s-1");
        assertThat(expired.exit()).isZero();
        assertThat(calls.get(calls.size() - 1).method()).isEqualTo("DELETE");
        assertThat(calls.get(calls.size() - 1).uri()).isEqualTo("/api/v1/alerting/silences/s-1");
        assertThat(run("alerts", "expire", "../rules/x").exit()).isEqualTo(1);
        response = "[{\"fingerprint\":\"f\",\"rule\":\"DnsNxdomainRatio\",\"status\":\"firing\",\"labels\":"
                + "{\"alertname\":\"DnsNxdomainRatio\",\"severity\":\"warning\",\"pod\":\"cart\"},"
                + "\"annotations\":{\"summary\":\"cart: 80% NXDOMAIN\"},\"startsAt\":\"2026-01-01T00:00:00Z\","
                + "\"value\":0.8,\"silencedBy\":[]}]";
        Result alerts = run("alerts", "list");
        assertThat(alerts.exit()).isZero();
        assertThat(alerts.out()).contains("VALUE").contains("0.800").contains("cart: 80% NXDOMAIN");
    }
}
