-- Policies applied as staged: compiled and judged against live flows, never enforced. One staged
-- candidate per policy key; staging it again starts its judgement again.
CREATE TABLE staged_policy (
    id          BIGSERIAL   PRIMARY KEY,
    kind        TEXT        NOT NULL,
    namespace   TEXT        NOT NULL DEFAULT '',
    name        TEXT        NOT NULL,
    -- The policy object, normalised to JSON, as a revision stores it.
    document    JSONB       NOT NULL,
    author      TEXT,
    staged_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Connections judged since it was staged, and how many of them it would drop.
    judged      BIGINT      NOT NULL DEFAULT 0,
    would_drop  BIGINT      NOT NULL DEFAULT 0,
    UNIQUE (kind, namespace, name)
);

-- What a staged policy would drop, per connection pattern (the evaluator bounds the rows per policy).
CREATE TABLE staged_drop (
    staged_id   BIGINT      NOT NULL REFERENCES staged_policy (id) ON DELETE CASCADE,
    source      TEXT        NOT NULL,
    destination TEXT        NOT NULL,
    port        INTEGER     NOT NULL,
    protocol    TEXT        NOT NULL,
    flows       BIGINT      NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (staged_id, source, destination, port, protocol)
);

-- The staged evaluator's position in the flows topic, written in the transaction of the counts it
-- covers: a restart or a rebalance neither loses nor repeats a judgement.
CREATE TABLE staged_offset (
    topic_partition INTEGER PRIMARY KEY,
    next_offset     BIGINT  NOT NULL
);
