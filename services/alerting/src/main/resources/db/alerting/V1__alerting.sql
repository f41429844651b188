-- The alerting service's state: rules and receivers configured over REST, silences, inhibitions,
-- and the outbox every notification is written to before it is sent (delivered at least once, with
-- the same webhook-id on every attempt).

CREATE TABLE rule (
    name      text        PRIMARY KEY,
    document  text        NOT NULL,
    updated   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE receiver (
    name               text        PRIMARY KEY,
    url                text        NOT NULL,
    format             text        NOT NULL,
    secrets            jsonb       NOT NULL,
    matchers           jsonb       NOT NULL,
    group_by           jsonb       NOT NULL,
    group_wait_ms      bigint      NOT NULL,
    group_interval_ms  bigint      NOT NULL,
    repeat_interval_ms bigint      NOT NULL,
    disabled           boolean     NOT NULL DEFAULT false,
    disabled_reason    text,
    created            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE silence (
    id         text        PRIMARY KEY,
    matchers   jsonb       NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_by text        NOT NULL,
    comment    text        NOT NULL,
    created    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inhibition (
    id       text  PRIMARY KEY,
    source   jsonb NOT NULL,
    target   jsonb NOT NULL,
    equal    jsonb NOT NULL
);

CREATE TABLE outbox (
    id               text        PRIMARY KEY,   -- the webhook-id
    receiver         text        NOT NULL,
    group_key        text        NOT NULL,
    status           text        NOT NULL,      -- pending, delivered, failed, disabled
    payload          text        NOT NULL,
    created          timestamptz NOT NULL DEFAULT now(),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
