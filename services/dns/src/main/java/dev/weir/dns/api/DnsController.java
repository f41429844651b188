package dev.weir.dns.api;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import dev.weir.api.dns.DnsHealth;
import dev.weir.api.dns.DnsInsight;
import dev.weir.api.dns.DnsTop;
import dev.weir.common.web.ApiProblems;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The DNS REST API (/api/v1/dns): health per namespace and per pod, top lists, and insights with
 * their evidence, over a time range (since/until: an ISO-8601 instant, or a duration back from
 * now such as 15m or PT1H). Served from the history in PostgreSQL, so any instance answers for
 * the whole cluster.
 */
@RestController
@RequestMapping("/api/v1/dns")
public class DnsController {

    private static final int MAX_LIMIT = 1000;
    private final JdbcClient jdbc;

    public DnsController(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** DNS health per namespace, or per pod of one namespace; worst first (most failures). */
    @Operation(summary = "DNS health per namespace, or per pod of one namespace; worst first")
    @GetMapping("/health")
    public List<DnsHealth> health(@Parameter(description = "One namespace: its pods instead of all namespaces.") @RequestParam(required = false) String namespace,
            @Parameter(description = "From when: a duration back (15m) or an RFC 3339 instant.") @RequestParam(defaultValue = "15m") String since, @Parameter(description = "Until when: a duration back or an RFC 3339 instant; default now.") @RequestParam(required = false) String until) {
        Range range = Range.of(since, until);
        boolean perPod = namespace != null;
        String group = perPod ? "namespace, pod, workload" : "namespace";
        List<DnsHealth> health = jdbc.sql("SELECT " + group + (perPod ? "" : ", '' AS pod, '' AS workload") + """
                , SUM(queries) q, SUM(noerror) ok, SUM(nxdomain) nx, SUM(servfail) sf, SUM(refused) rf,
                  SUM(unanswered) un, SUM(retransmissions) re, SUM(dropped) dr, SUM(search_path_wasted) sp,
                  COALESCE(MAX(latency_p95_ms), 0) p95,
                  (SELECT COUNT(*) FROM dns_insight i WHERE NOT i.resolved AND i.namespace = w.namespace
                """ + (perPod ? " AND i.pod = w.pod" : "") + """
                  ) active
                FROM dns_window w WHERE window_start >= :since AND window_start < :until
                """ + (perPod ? " AND namespace = :namespace" : "") + " GROUP BY " + group
                + " ORDER BY SUM(servfail + unanswered + dropped + nxdomain) DESC, " + group)
                .param("since", range.since()).param("until", range.until()).params(perPod ? Map.of("namespace", namespace)
                        : Map.of())
                .query((rs, n) -> {
                    long responses = rs.getLong("ok") + rs.getLong("nx") + rs.getLong("sf") + rs.getLong("rf");
                    return new DnsHealth(rs.getString("namespace"), rs.getString("pod"), rs.getString("workload"),
                            rs.getLong("q"), rs.getLong("ok"), rs.getLong("nx"), rs.getLong("sf"), rs.getLong("rf"),
                            rs.getLong("un"), rs.getLong("re"), rs.getLong("dr"), rs.getLong("sp"),
                            responses == 0 ? 0 : (double) rs.getLong("nx") / responses, rs.getDouble("p95"),
                            rs.getInt("active"));
                }).list();
        // The p95 of the range: the windows' histograms added up, per group (not the worst window's).
        Map<String, long[]> merged = new java.util.HashMap<>();
        jdbc.sql("SELECT " + group + (perPod ? "" : ", '' AS pod, '' AS workload") + """
                , u.i AS bucket, SUM(u.b) AS n
                FROM dns_window w, unnest(w.latency_buckets) WITH ORDINALITY AS u(b, i)
                WHERE window_start >= :since AND window_start < :until
                """ + (perPod ? " AND namespace = :namespace" : "") + " GROUP BY " + group + ", u.i")
                .param("since", range.since()).param("until", range.until()).params(perPod ? Map.of("namespace", namespace)
                        : Map.of())
                .query(rs -> {
                    int bucket = rs.getInt("bucket") - 1;
                    if (bucket >= 0 && bucket < dev.weir.common.dns.LatencyHistogram.BUCKETS) {
                        merged.computeIfAbsent(groupKey(rs.getString("namespace"), rs.getString("pod"), rs.getString("workload")),
                                k -> new long[dev.weir.common.dns.LatencyHistogram.BUCKETS])[bucket] += rs.getLong("n");
                    }
                });
        return health.stream().map(h -> {
            long[] buckets = merged.get(groupKey(h.namespace(), h.pod(), h.workload()));
            // Windows stored before histograms were kept: their largest p95, as before.
            return buckets == null ? h : h.withLatencyP95Ms(dev.weir.common.dns.LatencyHistogram.percentile(buckets, 0.95));
        }).toList();
    }

    private static String groupKey(String namespace, String pod, String workload) {
        return namespace + "\u0000" + pod + "\u0000" + workload;
    }

    /** The most asked names, the clients that ask most, or the names answered NXDOMAIN most. */
    @Operation(summary = "The most asked names, the clients that ask most, or the names answered NXDOMAIN most")
    @GetMapping("/top")
    public List<DnsTop> top(@Parameter(description = "names, clients or nxdomain.") @RequestParam(defaultValue = "names") String by, @Parameter(description = "Only this namespace.") @RequestParam(required = false) String namespace,
            @Parameter(description = "From when: a duration back (15m) or an RFC 3339 instant.") @RequestParam(defaultValue = "15m") String since, @Parameter(description = "Until when: a duration back or an RFC 3339 instant; default now.") @RequestParam(required = false) String until,
            @Parameter(description = "At most this many (1-1000).") @RequestParam(defaultValue = "10") int limit) {
        Range range = Range.of(since, until);
        checkLimit(limit);
        String where = " WHERE window_start >= :since AND window_start < :until"
                + (namespace == null ? "" : " AND namespace = :namespace");
        String sql = switch (by) {
            case "names", "nxdomain" -> "SELECT t->>'name' k, SUM((t->>'count')::bigint) c FROM dns_window, "
                    + "jsonb_array_elements(" + (by.equals("names") ? "top_names" : "top_nxdomain") + ") t" + where
                    + " GROUP BY k ORDER BY c DESC, k LIMIT :limit";
            case "clients" -> "SELECT CASE WHEN namespace = '' THEN client_ip ELSE namespace || '/' || pod END k, "
                    + "SUM(queries) c FROM dns_window" + where + " GROUP BY k ORDER BY c DESC, k LIMIT :limit";
            default -> throw new BadRequest("by", "'" + by + "' is not one of names, clients, nxdomain");
        };
        var statement = jdbc.sql(sql).param("since", range.since()).param("until", range.until()).param("limit", limit);
        if (namespace != null) {
            statement = statement.param("namespace", namespace);
        }
        return statement.query((rs, n) -> new DnsTop(rs.getString("k"), rs.getLong("c"))).list();
    }

    private static final Set<String> KINDS = Set.of("SEARCH_PATH_EXPANSION", "TIMEOUTS", "SERVFAIL_STORM",
            "NXDOMAIN_SPIKE", "HIGH_LATENCY", "BLOCKED_BY_POLICY", "UNRESOLVABLE_NAME", "RATE_LIMITED", "A_AAAA_RACE");

    /** Insights updated in the range, newest first; state=active|resolved|all. */
    @Operation(summary = "DNS insights updated in the range, newest first")
    @GetMapping("/insights")
    public List<DnsInsight> insights(@Parameter(description = "Only this namespace.") @RequestParam(required = false) String namespace,
            @Parameter(description = "One pod, by its name (with namespace to tell pods of two namespaces apart).") @RequestParam(required = false) String pod, @Parameter(description = "One kind of insight, as listed (SEARCH_PATH_EXPANSION, ...).") @RequestParam(required = false) String kind,
            @Parameter(description = "active, resolved or all.") @RequestParam(defaultValue = "all") String state, @Parameter(description = "From when: a duration back (24h) or an RFC 3339 instant.") @RequestParam(defaultValue = "24h") String since,
            @Parameter(description = "Until when: a duration back or an RFC 3339 instant; default now.") @RequestParam(required = false) String until, @Parameter(description = "At most this many (1-1000).") @RequestParam(defaultValue = "100") int limit) {
        Range range = Range.of(since, until);
        checkLimit(limit);
        if (kind != null && !KINDS.contains(kind)) {
            throw new BadRequest("kind", "'" + kind + "' is not one of " + new java.util.TreeSet<>(KINDS));
        }
        String resolved = switch (state) {
            case "active" -> " AND NOT resolved";
            case "resolved" -> " AND resolved";
            case "all" -> "";
            default -> throw new BadRequest("state", "'" + state + "' is not one of active, resolved, all");
        };
        String sql = "SELECT * FROM dns_insight WHERE updated >= :since AND updated < :until" + resolved
                + (namespace == null ? "" : " AND namespace = :namespace") + (pod == null ? "" : " AND pod = :pod")
                + (kind == null ? "" : " AND kind = :kind") + " ORDER BY updated DESC LIMIT :limit";
        var statement = jdbc.sql(sql).param("since", range.since()).param("until", range.until()).param("limit", limit);
        if (namespace != null) {
            statement = statement.param("namespace", namespace);
        }
        if (pod != null) {
            statement = statement.param("pod", pod);
        }
        if (kind != null) {
            statement = statement.param("kind", kind);
        }
        return statement.query(DnsController::insight).list();
    }

    /** One insight by id; ids hold slashes ("shop/frontend/SEARCH_PATH_EXPANSION/..."), so the rest of the path is the id. */
    @Operation(summary = "One DNS insight by id (the rest of the path: ids hold slashes)")
    @GetMapping("/insights/{*id}")
    public ResponseEntity<DnsInsight> insight(@Parameter(description = "The insight's id, as listed.") @PathVariable String id) {
        String key = id.startsWith("/") ? id.substring(1) : id;
        return jdbc.sql("SELECT * FROM dns_insight WHERE id = :id").param("id", key).query(DnsController::insight)
                .optional().map(ResponseEntity::ok).orElse(ResponseEntity.notFound().build());
    }

    private static DnsInsight insight(java.sql.ResultSet rs, int n) throws java.sql.SQLException {
        Timestamp resolvedAt = rs.getTimestamp("resolved_at");
        return new DnsInsight(rs.getString("id"), rs.getString("kind"), rs.getString("namespace"), rs.getString("pod"),
                rs.getString("workload"), rs.getString("node"), rs.getString("summary"), rs.getString("suggested_fix"),
                JsonColumns.strings(rs.getString("evidence")), JsonColumns.strings(rs.getString("policies")),
                rs.getDouble("value"), rs.getTimestamp("started").toInstant(), rs.getTimestamp("updated").toInstant(),
                rs.getBoolean("resolved"), resolvedAt == null ? null : resolvedAt.toInstant());
    }

    private static void checkLimit(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new BadRequest("limit", limit + " is out of range 1-" + MAX_LIMIT);
        }
    }

    /** A time range from request parameters. */
    record Range(Timestamp since, Timestamp until) {
        static Range of(String since, String until) {
            Instant now = Instant.now();
            Instant from = instant("since", since, now);
            Instant to = until == null ? now.plusSeconds(1) : instant("until", until, now);
            if (!from.isBefore(to)) {
                throw new BadRequest("since", "must be before until");
            }
            return new Range(Timestamp.from(from), Timestamp.from(to));
        }

        private static Instant instant(String field, String value, Instant now) {
            try {
                return dev.weir.common.time.Durations.pointInTime(value, now);
            } catch (IllegalArgumentException e) {
                throw new BadRequest(field, e.getMessage());
            }
        }
    }

    /** A request parameter at fault: a 400 naming it. */
    static final class BadRequest extends RuntimeException {
        private final String field;

        BadRequest(String field, String message) {
            super(field + ": " + message);
            this.field = field;
        }
    }

    @ExceptionHandler(BadRequest.class)
    public ProblemDetail bad(BadRequest e) {
        return ApiProblems.problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.field);
    }
}
