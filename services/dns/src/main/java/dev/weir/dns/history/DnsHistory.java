package dev.weir.dns.history;

import com.google.protobuf.Message;
import dev.weir.common.kafka.KafkaClients;
import dev.weir.common.kafka.ProtoConsumer;
import dev.weir.dns.DnsServiceProperties;
import dev.weir.proto.dns.v1.DnsClientStats;
import dev.weir.proto.dns.v1.DnsInsight;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import jakarta.annotation.PreDestroy;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Keeps the analytics' output in PostgreSQL: every client window and every insight (its latest
 * state), read from their topics with read_committed (only what the analytics committed) and
 * upserted by natural key, so a record delivered again is stored once. Offsets are committed after
 * the row is written. Rows older than the retention are deleted every few minutes.
 */
@Component
public class DnsHistory {

    private static final Logger LOG = LoggerFactory.getLogger(DnsHistory.class);
    static final String GROUP = "weir-dns-history";

    private final JdbcClient jdbc;
    private final DnsMetrics metrics;
    private final DnsServiceProperties properties;
    private final KafkaProducer<String, byte[]> deadLetters;
    private final List<ProtoConsumer<?>> consumers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    public DnsHistory(JdbcClient jdbc, DnsMetrics metrics, DnsServiceProperties properties) {
        this.jdbc = jdbc;
        this.metrics = metrics;
        this.properties = properties;
        this.deadLetters = new KafkaProducer<>(KafkaClients.producerConfig(properties.kafka(), GROUP));
    }

    @EventListener(ApplicationReadyEvent.class)
    public void start() {
        consume(TopicId.DNS_STATS, (record, message) -> window(record.key(), (DnsClientStats) message));
        consume(TopicId.DNS_INSIGHTS, (record, message) -> insight((DnsInsight) message));
    }

    private void consume(TopicId topic, ProtoConsumer.Handler<Message> handler) {
        TopicCatalogue catalogue = TopicCatalogue.standard();
        ProtoConsumer<Message> consumer = new ProtoConsumer<>(catalogue, topic, GROUP,
                new KafkaConsumer<>(KafkaClients.consumerConfig(properties.kafka(), GROUP)), deadLetters,
                handler);
        consumers.add(consumer);
        Thread thread = new Thread(consumer, "weir-dns-history-" + topic.catalogueId());
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
    }

    void window(String client, DnsClientStats w) {
        if (w == null) {
            return;
        }
        long known = w.getResponsesOrDefault("NOERROR", 0) + w.getResponsesOrDefault("NXDOMAIN", 0)
                + w.getResponsesOrDefault("SERVFAIL", 0) + w.getResponsesOrDefault("REFUSED", 0);
        long all = w.getResponsesMap().values().stream().mapToLong(Long::longValue).sum();
        Boolean inserted = jdbc.sql("""
                INSERT INTO dns_window (client, window_start, window_end, namespace, pod, workload, node, client_ip,
                    queries, noerror, nxdomain, servfail, refused, other_rcode, unanswered, retransmissions, truncated,
                    over_tcp, dropped, search_path_wasted, latency_p50_ms, latency_p95_ms, latency_p99_ms, qtypes,
                    top_names, top_nxdomain, latency_buckets)
                VALUES (:client, :start, :end, :namespace, :pod, :workload, :node, :ip, :queries, :noerror, :nxdomain,
                    :servfail, :refused, :other, :unanswered, :retransmissions, :truncated, :tcp, :dropped, :wasted,
                    :p50, :p95, :p99, CAST(:qtypes AS jsonb), CAST(:top AS jsonb), CAST(:topNx AS jsonb),
                    CAST(:buckets AS integer[]))
                ON CONFLICT (client, window_start) DO UPDATE SET window_end = EXCLUDED.window_end
                RETURNING (xmax = 0)
                """)
                .param("client", client).param("start", ts(w.getWindowStart())).param("end", ts(w.getWindowEnd()))
                .param("namespace", w.getNamespace()).param("pod", w.getPodName()).param("workload", w.getWorkload())
                .param("node", w.getNodeName()).param("ip", w.getClientIp()).param("queries", w.getQueries())
                .param("noerror", w.getResponsesOrDefault("NOERROR", 0))
                .param("nxdomain", w.getResponsesOrDefault("NXDOMAIN", 0))
                .param("servfail", w.getResponsesOrDefault("SERVFAIL", 0))
                .param("refused", w.getResponsesOrDefault("REFUSED", 0)).param("other", all - known)
                .param("unanswered", w.getUnanswered()).param("retransmissions", w.getRetransmissions())
                .param("truncated", w.getTruncated()).param("tcp", w.getOverTcp()).param("dropped", w.getDropped())
                .param("wasted", w.getSearchPathWasted()).param("p50", w.getLatencyP50Ms())
                .param("p95", w.getLatencyP95Ms()).param("p99", w.getLatencyP99Ms())
                .param("qtypes", Json.object(w.getQtypesMap())).param("top", Json.names(w.getTopNamesList()))
                .param("topNx", Json.names(w.getTopNxdomainList()))
                .param("buckets", w.getLatencyBucketsList().stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(",", "{", "}")))
                .query(Boolean.class).single();
        if (Boolean.TRUE.equals(inserted)) {
            metrics.window(w); // counted once per window, however often it is delivered
        }
    }

    void insight(DnsInsight i) {
        if (i == null) {
            return;
        }
        Boolean inserted = jdbc.sql("""
                INSERT INTO dns_insight (id, kind, namespace, pod, workload, node, summary, suggested_fix, evidence,
                    policies, value, started, updated, resolved, resolved_at)
                VALUES (:id, :kind, :namespace, :pod, :workload, :node, :summary, :fix, CAST(:evidence AS jsonb),
                    CAST(:policies AS jsonb), :value, :started, :updated, :resolved, :resolvedAt)
                ON CONFLICT (id) DO UPDATE SET summary = EXCLUDED.summary, suggested_fix = EXCLUDED.suggested_fix,
                    evidence = CASE WHEN EXCLUDED.resolved THEN dns_insight.evidence ELSE EXCLUDED.evidence END,
                    policies = EXCLUDED.policies, value = EXCLUDED.value,
                    updated = GREATEST(dns_insight.updated, EXCLUDED.updated),
                    resolved = dns_insight.resolved OR EXCLUDED.resolved,
                    resolved_at = COALESCE(dns_insight.resolved_at, EXCLUDED.resolved_at)
                RETURNING (xmax = 0)
                """)
                .param("id", i.getId()).param("kind", i.getKind().name()).param("namespace", i.getNamespace())
                .param("pod", i.getPodName()).param("workload", i.getWorkload()).param("node", i.getNodeName())
                .param("summary", i.getSummary()).param("fix", i.getSuggestedFix())
                .param("evidence", Json.strings(i.getEvidenceList())).param("policies", Json.strings(i.getPoliciesList()))
                .param("value", i.getValue()).param("started", ts(i.getWindowStart())).param("updated", ts(i.getTime()))
                .param("resolved", i.getResolved()).param("resolvedAt", i.getResolved() ? ts(i.getTime()) : null)
                .query(Boolean.class).single();
        if (Boolean.TRUE.equals(inserted)) {
            metrics.raised(i);
        }
    }

    /** Deletes windows and resolved insights older than the retention. */
    @Scheduled(fixedDelayString = "PT5M", initialDelayString = "PT1M")
    public void expire() {
        Timestamp before = Timestamp.from(Instant.now().minus(properties.dns().retention()));
        int windows = jdbc.sql("DELETE FROM dns_window WHERE window_start < :before").param("before", before).update();
        int insights = jdbc.sql("DELETE FROM dns_insight WHERE resolved AND updated < :before").param("before", before)
                .update();
        if (windows + insights > 0) {
            LOG.info("retention {}: deleted {} windows and {} resolved insights", properties.dns().retention(), windows,
                    insights);
        }
    }

    private static Timestamp ts(com.google.protobuf.Timestamp t) {
        return Timestamp.from(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
    }

    @PreDestroy
    void close() throws InterruptedException {
        consumers.forEach(ProtoConsumer::close);
        for (Thread thread : threads) {
            thread.join(5000);
        }
        deadLetters.close(java.time.Duration.ofSeconds(5));
    }
}
