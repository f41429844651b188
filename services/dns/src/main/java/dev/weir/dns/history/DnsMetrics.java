package dev.weir.dns.history;

import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import org.springframework.stereotype.Component;

/**
 * The analytics as Prometheus metrics, in the style of Hubble's and CoreDNS's DNS metrics but per
 * client workload: labels are namespace, workload, rcode and insight kind only (bounded
 * cardinality: no query names, no pod names). Counted from stored windows, once per window.
 */
@Component
public class DnsMetrics {

    private final MeterRegistry registry;

    public DnsMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void window(DnsClientStats w) {
        Tags tags = Tags.of("namespace", w.getNamespace(), "workload", w.getWorkload());
        counter("weir_dns_client_queries", "DNS queries sent by clients", tags).increment(w.getQueries());
        w.getResponsesMap().forEach((rcode, count) -> counter("weir_dns_client_responses",
                "DNS responses received by clients, by rcode", tags.and("rcode", rcode)).increment(count));
        counter("weir_dns_client_unanswered", "DNS queries with no response within the timeout", tags)
                .increment(w.getUnanswered());
        counter("weir_dns_client_retransmissions", "DNS queries sent again while unanswered", tags)
                .increment(w.getRetransmissions());
        counter("weir_dns_client_search_path_wasted_queries",
                "Queries for search-path candidates answered NXDOMAIN before the name resolved", tags)
                .increment(w.getSearchPathWasted());
        counter("weir_dns_client_dropped", "DNS packets of clients dropped by the datapath", tags)
                .increment(w.getDropped());
    }

    void raised(DnsInsight insight) {
        counter("weir_dns_insights", "DNS insights raised, by kind", Tags.of("kind", insight.getKind().name())).increment();
    }

    private Counter counter(String name, String help, Tags tags) {
        return Counter.builder(name).description(help).tags(tags).register(registry);
    }
}
