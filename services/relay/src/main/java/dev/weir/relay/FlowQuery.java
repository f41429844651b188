package dev.weir.relay;

import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.observer.v1.FlowFilter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import io.swagger.v3.oas.annotations.Parameter;
import org.springframework.web.bind.annotation.BindParam;

/**
 * A flows query as the REST API takes it, with the flags Hubble users know, turned into the
 * Observer API's filters (the same semantics): a pod, namespace, label or port given without a
 * side matches either side; {@code not} turns the filters into a blacklist.
 */
public record FlowQuery(
        @Parameter(description = "From when: a duration back (10m, 1h) or an RFC 3339 instant. Default 1h ago.",
                example = "10m") String since,
        @Parameter(description = "Until when: a duration back or an RFC 3339 instant. Default now.") String until,
        @Parameter(description = "The last N matching flows of the range (1-10000, default 100).") Integer last,
        @Parameter(description = "The first N matching flows from since (1-10000); excludes last.") Integer first,
        @Parameter(description = "The source: namespace/pod-name-prefix, or namespace/ for any pod of it. Repeatable (OR).")
        @BindParam("from_pod") List<String> fromPod,
        @Parameter(description = "The destination: namespace/pod-name-prefix, or namespace/. Repeatable (OR).")
        @BindParam("to_pod") List<String> toPod,
        @Parameter(description = "Either side: namespace/pod-name-prefix, or namespace/. Repeatable (OR).") List<String> pod,
        @Parameter(description = "Either side's namespace. Repeatable (OR).") List<String> namespace,
        @Parameter(description = "The source's namespace. Repeatable (OR).")
        @BindParam("from_namespace") List<String> fromNamespace,
        @Parameter(description = "The destination's namespace. Repeatable (OR).")
        @BindParam("to_namespace") List<String> toNamespace,
        @Parameter(description = "Either side's labels match this selector: key=value, key!=value, key, !key, key in (a,b), "
                + "requirements joined by commas (all must hold), a key with a source (k8s:app) or without (any). "
                + "Repeatable (OR).") List<String> label,
        @Parameter(description = "The source's labels match this selector (as label).") @BindParam("from_label") List<String> fromLabel,
        @Parameter(description = "The destination's labels match this selector (as label).") @BindParam("to_label") List<String> toLabel,
        @Parameter(description = "FORWARDED, DROPPED, AUDIT or ERROR. Repeatable (OR).") List<String> verdict,
        @Parameter(description = "Why a flow was dropped: POLICY_DENIED, ... Repeatable (OR).")
        @BindParam("drop_reason") List<String> dropReason,
        @Parameter(description = "The event type: NEW_CONNECTION, DROP, DNS, CONNECTION_CLOSE, POLICY_VERDICT. Repeatable.")
        List<String> type,
        @Parameter(description = "tcp, udp, sctp, icmp or icmpv6. Repeatable (OR).") List<String> protocol,
        @Parameter(description = "Either side's port (1-65535). Repeatable (OR).") List<String> port,
        @Parameter(description = "The destination port (1-65535). Repeatable (OR).") @BindParam("to_port") List<String> toPort,
        @Parameter(description = "The destination's DNS name, * as a wildcard: the names the source resolved to that "
                + "address. Repeatable (OR).") @BindParam("to_fqdn") List<String> toFqdn,
        @Parameter(description = "The node whose agent saw the flow, * as a wildcard. Repeatable (OR).") List<String> node,
        @Parameter(description = "ingress or egress: the side of the connection whose policy judged the flow.")
        @BindParam("traffic_direction") List<String> trafficDirection,
        @Parameter(description = "true: the flows that do NOT match the filters.") Boolean not,
        @Parameter(description = "The page token from a previous answer's next (Weir-Next for the export).") String page) {

    static final int MAX_LIMIT = 10_000;

    /** The filters: whitelist and blacklist, one of them empty. */
    public record Filters(List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
    }

    public Instant sinceOr(String fallback) {
        return instant("since", since == null ? fallback : since);
    }

    public Instant untilOrNull() {
        return until == null ? null : instant("until", until);
    }

    public boolean firstMode() {
        return first != null;
    }

    public int limit(int fallback) {
        if (first != null && last != null) {
            throw new BadRequest("first", "first and last exclude each other");
        }
        int limit = first != null ? first : last != null ? last : fallback;
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new BadRequest(first != null ? "first" : "last", limit + " is out of range 1-" + MAX_LIMIT);
        }
        return limit;
    }

    /** The protocols a flow's L4 can be. */
    static final java.util.Set<String> PROTOCOLS = java.util.Set.of("tcp", "udp", "sctp", "icmp", "icmpv6");

    /** Refuses what no flow can match because it is not a value at all: a 400 naming the parameter. */
    private void validate() {
        for (String p : list(protocol)) {
            if (!PROTOCOLS.contains(p.toLowerCase(Locale.ROOT))) {
                throw new BadRequest("protocol", "'" + p + "' is not one of " + new java.util.TreeSet<>(PROTOCOLS));
            }
        }
        for (var ports : List.of(Map.entry("port", list(port)), Map.entry("to_port", list(toPort)))) {
            for (String p : ports.getValue()) {
                if (!p.matches("[0-9]{1,5}") || Integer.parseInt(p) < 1 || Integer.parseInt(p) > 65535) {
                    throw new BadRequest(ports.getKey(), "'" + p + "' is not a port (1-65535)");
                }
            }
        }
        for (var labels : List.of(Map.entry("label", list(label)), Map.entry("from_label", list(fromLabel)),
                Map.entry("to_label", list(toLabel)))) {
            for (String l : labels.getValue()) {
                try {
                    dev.weir.common.flow.LabelSelector.of(l);
                } catch (IllegalArgumentException e) {
                    throw new BadRequest(labels.getKey(), e.getMessage());
                }
            }
        }
    }

    public Filters filters() {
        validate();
        FlowFilter.Builder base = FlowFilter.newBuilder();
        list(fromPod).forEach(base::addSourcePod);
        list(toPod).forEach(base::addDestinationPod);
        list(fromNamespace).forEach(base::addSourceNamespace);
        list(toNamespace).forEach(base::addDestinationNamespace);
        list(fromLabel).forEach(base::addSourceLabel);
        list(toLabel).forEach(base::addDestinationLabel);
        list(toPort).forEach(base::addDestinationPort);
        list(toFqdn).forEach(base::addDestinationFqdn);
        list(node).forEach(base::addNodeName);
        list(protocol).forEach(p -> base.addProtocol(p.toLowerCase(Locale.ROOT)));
        list(verdict).forEach(v -> base.addVerdict(enumOf(Verdict.class, "verdict", v)));
        list(dropReason).forEach(r -> base.addDropReasonDesc(enumOf(DropReason.class, "drop_reason", r)));
        list(type).forEach(t -> base.addEventType(enumOf(EventType.class, "type", t)));
        list(trafficDirection).forEach(d -> base.addTrafficDirection(
                enumOf(dev.weir.proto.flow.v1.TrafficDirection.class, "traffic_direction", d)));
        List<FlowFilter.Builder> filters = new ArrayList<>(List.of(base));
        filters = either(filters, pod, FlowFilter.Builder::addSourcePod, FlowFilter.Builder::addDestinationPod);
        filters = either(filters, namespace, FlowFilter.Builder::addSourceNamespace, FlowFilter.Builder::addDestinationNamespace);
        filters = either(filters, label, FlowFilter.Builder::addSourceLabel, FlowFilter.Builder::addDestinationLabel);
        filters = either(filters, port, FlowFilter.Builder::addSourcePort, FlowFilter.Builder::addDestinationPort);
        List<FlowFilter> built = filters.stream().map(FlowFilter.Builder::build).toList();
        boolean any = built.stream().anyMatch(f -> !f.equals(FlowFilter.getDefaultInstance()));
        boolean negate = Boolean.TRUE.equals(not);
        return new Filters(negate || !any ? List.of() : built, negate && any ? built : List.of());
    }

    private static List<String> list(List<String> values) {
        return values == null ? List.of() : values;
    }

    /** A flag without a side: each filter so far becomes two, one per side (OR between them). */
    private static List<FlowFilter.Builder> either(List<FlowFilter.Builder> filters, List<String> values,
            BiConsumer<FlowFilter.Builder, String> source, BiConsumer<FlowFilter.Builder, String> destination) {
        if (values == null || values.isEmpty()) {
            return filters;
        }
        List<FlowFilter.Builder> result = new ArrayList<>();
        for (FlowFilter.Builder f : filters) {
            result.add(each(f.clone(), values, source));
            result.add(each(f.clone(), values, destination));
        }
        return result;
    }

    private static FlowFilter.Builder each(FlowFilter.Builder f, List<String> values, BiConsumer<FlowFilter.Builder, String> add) {
        Consumer<String> adder = v -> add.accept(f, v);
        values.forEach(adder);
        return f;
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String field, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(field, "'" + value + "' is not one of " + Arrays.toString(type.getEnumConstants()));
        }
    }

    static Instant instant(String field, String value) {
        try {
            return dev.weir.common.time.Durations.pointInTime(value, Instant.now());
        } catch (IllegalArgumentException e) {
            throw new BadRequest(field, e.getMessage());
        }
    }
}
