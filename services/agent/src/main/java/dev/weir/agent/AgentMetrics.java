package dev.weir.agent;

import dev.weir.agent.datapath.Datapath;
import dev.weir.agent.endpoint.EndpointDirectory;
import dev.weir.agent.endpoint.LocalEndpoint;
import dev.weir.agent.flow.DnsTracker;
import dev.weir.agent.flow.LostEvents;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.observer.v1.LostEventSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's Prometheus metrics, named and labelled as Hubble's and CoreDNS's are, with bounded
 * cardinality (no pod, address or query name labels). Counters on the flow path are cached per
 * label set so that counting costs a map lookup, not a registry lookup.
 */
public final class AgentMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final DistributionSummary drainBatch;
    private final Counter dnsMalformed;
    private final Datapath datapath;
    private final EndpointDirectory directory;
    private volatile long countersReadAt;
    private volatile List<Datapath.Counter> datapathCounters = List.of();
    private final java.util.Set<String> registeredDatapathCounters = ConcurrentHashMap.newKeySet();

    public AgentMetrics(Datapath datapath, LostEvents lost, DnsTracker dns, EndpointDirectory directory) {
        this.datapath = datapath;
        this.directory = directory;
        drainBatch = DistributionSummary.builder("weir_ringbuf_drain_batch_size")
                .description("Records per ring-buffer drain").serviceLevelObjectives(1, 16, 256, 1024, 4096)
                .register(registry);
        dnsMalformed = Counter.builder("weir_dns_parse_errors").description("DNS payloads that were not DNS messages")
                .register(registry);
        for (LostEventSource source : LostEventSource.values()) {
            if (source != LostEventSource.UNRECOGNIZED && source != LostEventSource.UNKNOWN_LOST_EVENT_SOURCE) {
                FunctionCounter.builder("weir_lost_events", lost, l -> l.get(source))
                        .description("Flow events lost, by where").tag("source", source.name()).register(registry);
            }
        }
        FunctionCounter.builder("weir_dns_unanswered", dns, DnsTracker::unanswered)
                .description("DNS queries without a response within 5 s").register(registry);
        Gauge.builder("weir_endpoints", directory, d -> d.locals().size()).description("Endpoints on this node")
                .register(registry);
        Gauge.builder("weir_policy_map_pressure", this, AgentMetrics::policyMapPressure)
                .description("Largest fill ratio of this node's endpoint policy maps").register(registry);
        Gauge.builder("weir_conntrack_entries", datapath, Datapath::conntrackEntries)
                .description("Connections tracked by the datapath").register(registry);
    }

    public void drained(int records) {
        drainBatch.record(records);
    }

    public void flow(Flow flow) {
        counter("weir_flows_processed", "Flows built from datapath events and handed to Kafka, by type, "
                + "observation point (subtype: to-endpoint, from-endpoint) and verdict",
                "type", flow.getEventType().name(), "subtype", observationPoint(flow), "verdict", flow.getVerdict().name())
                .increment();
        if (flow.getVerdict() == Verdict.DROPPED) {
            counter("weir_drop", "Packets dropped by the datapath, by reason",
                    "reason", flow.getDropReason().name(), "protocol", protocol(flow)).increment();
        }
        if (judgedByPolicy(flow)) {
            counter("weir_policy_verdicts", "New connections judged by network policy, by the side that judged "
                    + "(direction), what in the policy matched (match) and the outcome (action)",
                    "direction", flow.getTrafficDirection() == dev.weir.proto.flow.v1.TrafficDirection.INGRESS ? "ingress"
                            : "egress", "match", match(flow.getPolicyMatchType()),
                    "action", flow.getVerdict().name().toLowerCase(java.util.Locale.ROOT)).increment();
        }
    }

    static String observationPoint(Flow flow) {
        return switch (flow.getTracePoint()) {
            case FROM_ENDPOINT -> "from-endpoint";
            case TO_ENDPOINT -> "to-endpoint";
            default -> "";
        };
    }

    /**
     * A connection's first packet, judged at one side by its policy: a new connection, or a drop
     * by policy. (Replies and later packets ride on the connection's verdict; DNS records are not
     * verdicts.)
     */
    static boolean judgedByPolicy(Flow flow) {
        if (flow.getTrafficDirection() == dev.weir.proto.flow.v1.TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN
                || flow.getIsReply()) {
            return false;
        }
        return switch (flow.getEventType()) {
            case NEW_CONNECTION, POLICY_VERDICT -> true;
            case DROP -> flow.getDropReason() == dev.weir.proto.flow.v1.DropReason.POLICY_DENIED
                    || flow.getDropReason() == dev.weir.proto.flow.v1.DropReason.POLICY_DENY;
            default -> false;
        };
    }

    /** Hubble's names for what matched: l3-only, l3-l4, l4-only, all, none; not-isolated when no policy selects the pod. */
    static String match(dev.weir.proto.flow.v1.PolicyMatchType match) {
        return switch (match) {
            case POLICY_MATCH_L3_ONLY -> "l3-only";
            case POLICY_MATCH_L3_L4 -> "l3-l4";
            case POLICY_MATCH_L4_ONLY -> "l4-only";
            case POLICY_MATCH_ALL -> "all";
            case POLICY_MATCH_NOT_ISOLATED -> "not-isolated";
            default -> "none";
        };
    }

    /**
     * Query types a label may take: a pod writes the query type into its packets, so any other
     * (TYPE12345 and the like) is counted as OTHER, and the label's values stay a bounded set.
     */
    static final java.util.Set<String> QTYPES = java.util.Set.of("A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA",
            "SRV", "TXT", "HTTPS", "SVCB", "ANY", "CAA", "DS", "DNSKEY", "NAPTR");

    static String qtype(Dns dns) {
        if (dns.getQtypesCount() == 0) {
            return "";
        }
        return QTYPES.contains(dns.getQtypes(0)) ? dns.getQtypes(0) : "OTHER";
    }

    /** A DNS message, counted once (by the observation point that owns it), as Hubble's dns metrics count. */
    public void dns(Dns dns) {
        String qtype = qtype(dns);
        if (dns.getIsResponse()) {
            counter("weir_dns_responses", "DNS responses seen in pods' traffic, once each",
                    "rcode", rcode(dns.getRcode()), "qtypes", qtype, "ips_returned", ipsReturned(dns.getIpsCount())).increment();
        } else {
            counter("weir_dns_queries", "DNS queries seen in pods' traffic, once each", "qtypes", qtype).increment();
        }
    }

    /**
     * Addresses in an answer as Hubble's ips_returned label has them, but bounded: a DNS server pod
     * writes the answer, so beyond ten the label says "10+" and the label's values stay few.
     */
    static String ipsReturned(int ips) {
        return ips >= 10 ? "10+" : Integer.toString(Math.max(0, ips));
    }

    public void dnsMalformed() {
        dnsMalformed.increment();
    }

    private Counter counter(String name, String help, String... tags) {
        String key = name + String.join("|", tags);
        Counter counter = counters.get(key);
        if (counter == null) {
            counter = counters.computeIfAbsent(key, k -> Counter.builder(name).description(help).tags(tags)
                    .register(registry));
        }
        return counter;
    }

    private static String protocol(Flow flow) {
        return switch (flow.getL4().getProtocolCase()) {
            case TCP -> "TCP";
            case UDP -> "UDP";
            case ICMPV4 -> "ICMPv4";
            case ICMPV6 -> "ICMPv6";
            case SCTP -> "SCTP";
            default -> "unknown";
        };
    }

    /** The rcode label: the names of the six codes a resolver answers queries with, else OTHER (bounded). */
    static String rcode(int rcode) {
        return rcode >= 0 && rcode <= 5 ? dev.weir.agent.flow.DnsDecoder.rcodeName(rcode) : "OTHER";
    }

    private double policyMapPressure() {
        double max = 0;
        for (LocalEndpoint endpoint : directory.locals()) {
            try {
                int[] usage = datapath.policyUsage(endpoint.endpointId());
                max = Math.max(max, usage[1] == 0 ? 0 : (double) usage[0] / usage[1]);
            } catch (RuntimeException e) {
                // an endpoint removed meanwhile
            }
        }
        return max;
    }

    /**
     * What the fail-closed protections did: conntrack entries that expired, were judged again
     * after a policy change or ended by it, ICMP errors passed for their connection, tombstones
     * that did not loosen an endpoint, and DNS answers that did not count for toFQDNs.
     */
    public void protections(dev.weir.agent.state.DesiredState desired, dev.weir.agent.dns.DnsObservations dns) {
        datapathHealth("weir_conntrack_expired", "Conntrack entries found past their lifetime at lookup",
                dev.weir.agent.datapath.MapLayout.HEALTH_CT_EXPIRED);
        datapathHealth("weir_conntrack_rejudged", "Tracked connections judged again after a policy revision or a new peer identity",
                dev.weir.agent.datapath.MapLayout.HEALTH_CT_REJUDGED);
        datapathHealth("weir_conntrack_revoked", "Tracked connections ended because a new revision no longer allows them",
                dev.weir.agent.datapath.MapLayout.HEALTH_CT_REVOKED);
        datapathHealth("weir_conntrack_insert_failed", "New connections refused because the endpoint's conntrack map was full",
                dev.weir.agent.datapath.MapLayout.HEALTH_CT_INSERT_FAILED);
        datapathHealth("weir_icmp_related", "ICMP errors passed for the tracked connection they quote",
                dev.weir.agent.datapath.MapLayout.HEALTH_ICMP_RELATED);
        FunctionCounter.builder("weir_conntrack_collected", this, m -> m.conntrackCollected)
                .description("Expired conntrack entries deleted by garbage collection").register(registry);
        FunctionCounter.builder("weir_policy_state_tombstones_kept", desired, d -> d.tombstonesKept())
                .description("Policy-state tombstones for endpoints still on this node: their last state stayed in force")
                .register(registry);
        FunctionCounter.builder("weir_policy_states_for_other_pods", desired, d -> d.statesForOtherPods())
                .description("Policy states that named another pod than the endpoint now holding their id: ignored")
                .register(registry);
        Gauge.builder("weir_policy_states_pending", desired, d -> d.pendingStates())
                .description("Policy states whose endpoint id has no endpoint on this node").register(registry);
        for (dev.weir.agent.dns.DnsAnswerGate.Refusal reason : dev.weir.agent.dns.DnsAnswerGate.Refusal.values()) {
            FunctionCounter.builder("weir_dns_answers_refused", dns.gate(), g -> g.refused(reason))
                    .description("DNS answers that did not count for toFQDNs (or were capped), by reason")
                    .tag("reason", reason.name().toLowerCase()).register(registry);
        }
        FunctionCounter.builder("weir_dns_observations_dropped", dns, d -> d.dropped())
                .description("Trusted DNS answers not published because the sender's queue was full").register(registry);
        FunctionCounter.builder("weir_dns_observations_send_failures", dns, d -> d.sendFailures())
                .description("DNS observations Kafka refused").register(registry);
    }

    /** Failures each desired-state consumer went on after (it restarts with backoff, /healthz 503 meanwhile). */
    public void consumers(List<dev.weir.common.kafka.ProtoConsumer<?>> consumers) {
        for (dev.weir.common.kafka.ProtoConsumer<?> consumer : consumers) {
            FunctionCounter.builder("weir_consumer_restarts", consumer, c -> c.restarts())
                    .description("Failures a Kafka consumer loop went on after, by topic").tag("topic", consumer.topic())
                    .register(registry);
        }
    }

    /** Failures each of the agent's own loops (the flow reader and publisher) was started again after. */
    public void loops(List<dev.weir.common.Supervised> loops) {
        for (dev.weir.common.Supervised loop : loops) {
            FunctionCounter.builder("weir_loop_restarts", loop, dev.weir.common.Supervised::restarts)
                    .description("Times a background loop failed and was started again").tag("loop", loop.name())
                    .register(registry);
        }
    }

    private volatile double conntrackCollected;

    public void conntrackSwept(Datapath.ConntrackSweep sweep) {
        conntrackCollected += sweep.deleted();
    }

    private void datapathHealth(String name, String help, int slot) {
        FunctionCounter.builder(name, datapath, d -> d.health(slot)).description(help).register(registry);
    }

    /** Datapath packet counters (per verdict, reason, direction), read at most once a second. */
    public List<Datapath.Counter> datapathCounters() {
        long now = System.nanoTime();
        if (now - countersReadAt > 1_000_000_000L) {
            datapathCounters = datapath.counters();
            countersReadAt = now;
        }
        return datapathCounters;
    }

    public double policyMapPressureNow() {
        return policyMapPressure();
    }

    /** The text exposition Prometheus scrapes. */
    public String scrape() {
        for (Datapath.Counter c : datapathCounters()) {
            String key = c.verdict() + "/" + c.dropReason() + "/" + c.direction();
            if (!registeredDatapathCounters.add(key)) {
                continue;
            }
            FunctionCounter.builder("weir_datapath_packets", this, m -> m.packetsOf(c.verdict(), c.dropReason(), c.direction()))
                    .tags("verdict", verdictName(c.verdict()), "reason", reasonName(c.dropReason()),
                            "direction", c.direction() == 1 ? "ingress" : "egress")
                    .description("Packets judged by the datapath's programs (per-CPU counters, summed)")
                    .register(registry);
        }
        return registry.scrape();
    }

    /** The datapath's verdict number by its name (a bounded set: OTHER for a number no release knows). */
    static String verdictName(int verdict) {
        dev.weir.proto.flow.v1.Verdict known = dev.weir.proto.flow.v1.Verdict.forNumber(verdict);
        return known == null ? "OTHER" : known.name();
    }

    /** The datapath's drop reason by its name: NONE for a packet not dropped, OTHER for an unknown number. */
    static String reasonName(int reason) {
        if (reason == 0) {
            return "NONE";
        }
        dev.weir.proto.flow.v1.DropReason known = dev.weir.proto.flow.v1.DropReason.forNumber(reason);
        return known == null ? "OTHER" : known.name();
    }

    private double packetsOf(int verdict, int reason, int direction) {
        for (Datapath.Counter c : datapathCounters()) {
            if (c.verdict() == verdict && c.dropReason() == reason && c.direction() == direction) {
                return c.packets();
            }
        }
        return 0;
    }
}
