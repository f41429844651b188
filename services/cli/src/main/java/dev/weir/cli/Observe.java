package dev.weir.cli;

import dev.weir.api.flows.FlowView;
import dev.weir.api.flows.FlowsLost;
import dev.weir.api.flows.FlowsResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/**
 * {@code weir observe}: the cluster's flows from the relay, with Hubble's flags. History comes
 * from Kafka (--since reaches as far back as the topic keeps flows); -f then streams new ones live.
 */
@Command(name = "observe", mixinStandardHelpOptions = true,
        description = "Show the cluster's flows: history by time range, then (-f) new ones as they come.")
final class Observe implements Callable<Integer> {

    /** Flows per request when every match of a time range is read: the relay's largest page. */
    static final int PAGE = 10_000;

    @ParentCommand
    Weir weir;

    @Option(names = "--since", description = "From when: a duration back (10m) or an instant. Given without --last or "
            + "--first, every matching flow since then is shown (as hubble observe does); otherwise 1h.")
    String since;

    @Option(names = "--until", description = "Until when.")
    String until;

    @Option(names = "--last", description = "The last N matching flows (default 20 unless --since or --until is given).")
    Integer last;

    @Option(names = "--first", description = "The first N matching flows from --since.")
    Integer first;

    @Option(names = {"-f", "--follow"}, description = "Keep showing new flows (Ctrl-C stops).")
    boolean follow;

    @Option(names = "--from-pod", description = "The source side: namespace/pod-prefix, or namespace/.") List<String> fromPod;
    @Option(names = "--to-pod", description = "The destination side: namespace/pod-prefix, or namespace/.") List<String> toPod;
    @Option(names = "--pod", description = "Either side: namespace/pod-prefix, or namespace/ for a namespace.")
    List<String> pod;
    @Option(names = {"-n", "--namespace"}, description = "Either side.") List<String> namespace;
    @Option(names = "--from-namespace", description = "The source side's namespace.") List<String> fromNamespace;
    @Option(names = "--to-namespace", description = "The destination side's namespace.") List<String> toNamespace;
    @Option(names = "--label", description = "Either side, key=value.") List<String> label;
    @Option(names = "--verdict", description = "FORWARDED, DROPPED, ...") List<String> verdict;
    @Option(names = "--drop-reason-desc", description = "POLICY_DENIED, ...") List<String> dropReason;
    @Option(names = "--type", description = "Event type: NEW_CONNECTION, DROP, DNS, CONNECTION_CLOSE, POLICY_VERDICT") List<String> type;
    @Option(names = "--protocol", description = "tcp, udp, sctp, icmp, icmpv6") List<String> protocol;
    @Option(names = "--port", description = "Either side's port (1-65535).") List<String> port;
    @Option(names = "--to-port", description = "The destination port.") List<String> toPort;
    @Option(names = "--to-fqdn", description = "Names with * wildcards.") List<String> toFqdn;
    @Option(names = "--node", description = "The node that saw the flow (* wildcards).") List<String> node;
    @Option(names = "--traffic-direction", description = "ingress or egress: the side of the connection whose "
            + "policy judged the flow.") List<String> trafficDirection;
    @Option(names = "--not", description = "Show the flows that do NOT match the filters.") boolean not;
    @Option(names = "--print-policy-names", description = "Show the policies that allowed or denied each flow.")
    boolean policyNames;

    @Option(names = {"-o", "--output"}, defaultValue = "compact",
            description = "compact (as hubble observe prints), dict, table, json, or jsonpb (Hubble's export format: "
                    + "one GetFlowsResponse a line, for hubble observe --input-file) (default: ${DEFAULT-VALUE}).")
    String output;

    @Override
    public Integer call() throws Exception {
        Api relay = weir.api(weir.relayApi);
        // As hubble observe: a time range alone means every flow in it, read page by page from the
        // oldest; otherwise the last 20 of the last hour.
        boolean everyMatch = (since != null || until != null) && first == null && last == null;
        Map<String, String> params = new LinkedHashMap<>();
        params.put("since", since == null ? "1h" : since);
        params.put("until", until);
        params.put(first != null || everyMatch ? "first" : "last",
                Integer.toString(everyMatch ? PAGE : first != null ? first : last != null ? last : 20));
        params.put("not", not ? "true" : null);
        StringBuilder query = new StringBuilder(Api.query(params));
        repeat(query, "from_pod", fromPod);
        repeat(query, "to_pod", toPod);
        repeat(query, "pod", pod);
        repeat(query, "namespace", namespace);
        repeat(query, "from_namespace", fromNamespace);
        repeat(query, "to_namespace", toNamespace);
        repeat(query, "label", label);
        repeat(query, "verdict", verdict);
        repeat(query, "drop_reason", dropReason);
        repeat(query, "type", type);
        repeat(query, "protocol", protocol);
        repeat(query, "port", port);
        repeat(query, "to_port", toPort);
        repeat(query, "to_fqdn", toFqdn);
        repeat(query, "node", node);
        repeat(query, "traffic_direction", trafficDirection);
        if (output.equals("jsonpb")) {
            // Hubble's export format, translated by the relay: one GetFlowsResponse per line.
            if (follow) {
                throw new Api.Failure(Api.REFUSED, "-o jsonpb takes history only; follow with -o json");
            }
            String page = null;
            do {
                String[] next = {null, null};
                relay.lines("/api/v1/flows/export" + query + pageParameter(page), headers -> {
                    next[0] = headers.firstValue("Weir-Next").orElse(null);
                    next[1] = headers.firstValue("Weir-Truncated").orElse(null);
                }).forEach(line -> weir.out().println(line.toString()));
                if (next[1] != null) {
                    weir.out().flush();
                    weir.spec.commandLine().getErr().println("weir: the history was cut short (" + next[1]
                            + "); narrow the filters or the time range");
                    break;
                }
                page = nextPage(everyMatch, page, next[0]);
            } while (page != null);
            weir.out().flush();
            return 0;
        }
        String filters = query.toString().replaceAll("(^\\?|&)(since|until|first|last)=[^&]*", "");
        // Following starts before the history is read, so no flow falls between the two.
        java.util.Iterator<JsonNode> live = follow
                ? relay.lines("/api/v1/flows/follow" + (filters.isEmpty() ? "" : "?" + filters.replaceFirst("^&", "")))
                        .iterator()
                : null;
        // The flows history and the live stream may both bring: those of the last moments before
        // following began (the relay's publish delay), remembered only while following.
        java.time.Instant recent = java.time.Instant.now().minusSeconds(15);
        java.util.Set<String> printed = new java.util.HashSet<>();
        String page = null;
        do {
            Table table = new Table("TIME", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY");  // as hubble -o table
            String path = "/api/v1/flows" + query + pageParameter(page);
            JsonNode answer = weir.slow("reading flows since " + params.get("since") + " from Kafka", () -> relay.get(path));
            FlowsResponse result = Api.read(answer, FlowsResponse.class);
            answer.get("flows").forEach(flow -> print(flow, table));
            if (output.equals("table")) {
                table.print(weir.out());
            }
            if (live != null) {
                result.flows().stream().filter(f -> f.time() == null || !f.time().isBefore(recent)).forEach(f -> printed.add(f.uuid()));
            }
            if (result.truncated()) {
                // A scan cut short read its partitions unevenly: a further page could skip flows.
                String last = result.flows().isEmpty() || result.flows().get(result.flows().size() - 1).time() == null ? ""
                        : " (the last shown is of " + result.flows().get(result.flows().size() - 1).time() + ")";
                weir.spec.commandLine().getErr().println("weir: the history was cut short after " + result.scanned()
                        + " flows read" + last + "; narrow the filters or the time range");
                break;
            }
            page = nextPage(everyMatch, page, result.next());
        } while (page != null);
        while (live != null && live.hasNext()) {
            JsonNode line = live.next();
            if (line.has("lost")) {
                weir.spec.commandLine().getErr().println("weir: " + Api.read(line, FlowsLost.class).lost()
                        + " flows lost: this terminal fell behind; narrow the filters");
            } else if (!printed.remove(line.path("uuid").asString())) {
                print(line, null);
            }
        }
        return 0;
    }

    /** One flow: json and dict print every field as it came; the others read it as the API's FlowView. */
    private void print(JsonNode raw, Table table) {
        if (output.equals("json")) {
            weir.out().println(raw.toString());
            weir.out().flush();
            return;
        }
        if (output.equals("dict")) {
            weir.out().println("------------");
            raw.properties().forEach(e -> weir.out().printf("%15s: %s%n", e.getKey(), Table.text(e.getValue())));
            weir.out().flush();
            return;
        }
        FlowView flow = Api.read(raw, FlowView.class);
        // As hubble observe prints it: a reply is shown from the replying side, with "<-".
        String source = endpoint(flow.source(), flow.sourceIp(), flow.sourcePort());
        String destination = endpoint(flow.destination(), flow.destinationIp(), flow.destinationPort());
        String verdict = flow.verdict() + (flow.dropReason().isEmpty() ? "" : " (" + flow.dropReason() + ")");
        String policies = policyNames && !flow.policies().isEmpty() ? " policies=" + flow.policies() : "";
        String type = kind(flow);
        String summary = flow.summary().isEmpty() ? flow.protocol() : flow.summary();
        if (output.equals("table")) {
            if (table != null) {
                table.row(time(flow), source, destination, type, verdict + policies, summary);
            } else {
                weir.out().printf("%s  %s -> %s  %s  %s%s  %s%n", time(flow), source, destination, type, verdict, policies,
                        summary);
            }
        } else {
            String from = identified(source, flow.sourceIdentity());
            String to = identified(destination, flow.destinationIdentity());
            weir.out().printf("%s [%s]: %s %s %s %s %s%s (%s)%n", time(flow), flow.node(), flow.reply() ? to : from,
                    flow.reply() ? "<-" : "->", flow.reply() ? from : to, type, verdict, policies, summary);
        }
        weir.out().flush();
    }

    private static final java.time.format.DateTimeFormatter TIME = java.time.format.DateTimeFormatter
            .ofPattern("MMM ppd HH:mm:ss.SSS", java.util.Locale.ROOT).withZone(java.time.ZoneId.systemDefault());

    /** Hubble's compact time, "Dec  1 16:18:25.773", in the terminal's zone. */
    static String time(FlowView flow) {
        return flow.time() == null ? "" : TIME.format(flow.time());
    }

    /**
     * What the flow is, named as hubble observe names it: where the datapath saw a connection
     * (to-endpoint, from-endpoint), a DNS request or response, a policy verdict, a drop.
     */
    static String kind(FlowView flow) {
        return switch (flow.type()) {
            case "DNS" -> flow.reply() ? "dns-response" : "dns-request";
            case "DROP" -> "drop" + (flow.observationPoint().isEmpty() ? "" : " " + flow.observationPoint());
            case "POLICY_VERDICT" -> "policy-verdict" + (flow.trafficDirection().isEmpty() ? ""
                    : ":" + flow.trafficDirection().toUpperCase(java.util.Locale.ROOT));
            default -> flow.observationPoint().isEmpty() ? flow.type().toLowerCase(java.util.Locale.ROOT).replace('_', '-')
                    : flow.observationPoint();
        };
    }

    private static String identified(String endpoint, long identity) {
        return identity == 0 ? endpoint : endpoint + " (ID:" + identity + ")";
    }

    private static String endpoint(String pod, String ip, int port) {
        String who = pod.isEmpty() ? ip : pod + " (" + ip + ")";
        return port == 0 ? who : who + ":" + port;
    }

    /** The next page's token, if every match is wanted; a relay that hands back the same token is not followed round. */
    private static String nextPage(boolean everyMatch, String current, String next) {
        if (!everyMatch || next == null) {
            return null;
        }
        if (next.equals(current)) {
            throw new Api.Failure(Api.UNAVAILABLE, "the relay answered a page with the same page again; stopped");
        }
        return next;
    }

    private static String pageParameter(String token) {
        return token == null ? "" : "&page=" + java.net.URLEncoder.encode(token, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void repeat(StringBuilder query, String name, List<String> values) {
        if (values == null) {
            return;
        }
        for (String v : values) {
            query.append(query.length() == 0 ? '?' : '&').append(name).append('=')
                    .append(java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
