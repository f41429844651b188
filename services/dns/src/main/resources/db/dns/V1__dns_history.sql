-- DNS history of the analytics service: each client's windows and the insights, kept for the
-- retention the service is configured with. Rows are upserted by their natural keys, so a window
-- or an insight delivered twice (a consumer restarted before its commit) is stored once.

CREATE TABLE dns_window (
    client              text        NOT NULL,
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    namespace           text        NOT NULL,
    pod                 text        NOT NULL,
    workload            text        NOT NULL,
    node                text        NOT NULL,
    client_ip           text        NOT NULL,
    queries             bigint      NOT NULL,
    noerror             bigint      NOT NULL,
    nxdomain            bigint      NOT NULL,
    servfail            bigint      NOT NULL,
    refused             bigint      NOT NULL,
    other_rcode         bigint      NOT NULL,
    unanswered          bigint      NOT NULL,
    retransmissions     bigint      NOT NULL,
    truncated           bigint      NOT NULL,
    over_tcp            bigint      NOT NULL,
    dropped             bigint      NOT NULL,
    search_path_wasted  bigint      NOT NULL,
    latency_p50_ms      double precision NOT NULL,
    latency_p95_ms      double precision NOT NULL,
    latency_p99_ms      double precision NOT NULL,
    qtypes              jsonb       NOT NULL,
    top_names           jsonb       NOT NULL,
    top_nxdomain        jsonb       NOT NULL,
    PRIMARY KEY (client, window_start)
);
CREATE INDEX dns_window_by_time ON dns_window (window_start);
CREATE INDEX dns_window_by_namespace ON dns_window (namespace, window_start);

CREATE TABLE dns_insight (
    id             text        PRIMARY KEY,
    kind           text        NOT NULL,
    namespace      text        NOT NULL,
    pod            text        NOT NULL,
    workload       text        NOT NULL,
    node           text        NOT NULL,
    summary        text        NOT NULL,
    suggested_fix  text        NOT NULL,
    evidence       jsonb       NOT NULL,
    policies       jsonb       NOT NULL,
    value          double precision NOT NULL,
    started        timestamptz NOT NULL,
    updated        timestamptz NOT NULL,
    resolved       boolean     NOT NULL,
    resolved_at    timestamptz
);
CREATE INDEX dns_insight_by_update ON dns_insight (updated);
CREATE INDEX dns_insight_active ON dns_insight (resolved, namespace);
