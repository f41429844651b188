-- The alerts firing now, so that a restart keeps them: one still firing keeps its fingerprint and
-- start, one that cleared while the service was down is resolved (and notified) once its rule's
-- window has had time to fill again.
CREATE TABLE alert_state (
    fingerprint  text        PRIMARY KEY,
    rule         text        NOT NULL,
    group_key    jsonb       NOT NULL,   -- the values of the rule's groupBy labels, in order
    active_since timestamptz NOT NULL,
    updated      timestamptz NOT NULL DEFAULT now()
);
