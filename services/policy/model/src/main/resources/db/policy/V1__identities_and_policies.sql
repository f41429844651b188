-- The control plane's durable state: security identities and policies with their revisions.

-- One identity per distinct set of security-relevant labels. Ids below 256 are reserved.
CREATE TABLE identity (
    id          INTEGER PRIMARY KEY CHECK (id > 0),
    -- Sorted "key=value" labels joined by ',', the identity's natural key.
    label_key   TEXT        NOT NULL UNIQUE,
    labels      TEXT[]      NOT NULL,
    kind        TEXT        NOT NULL CHECK (kind IN ('reserved', 'endpoint', 'cidr', 'fqdn')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when no endpoint, CIDR or FQDN rule uses the identity any more; ids are not reused
    -- while they may still be in some node's maps.
    released_at TIMESTAMPTZ
);

-- Endpoint, CIDR and FQDN identities are allocated from here on, never below 256.
CREATE SEQUENCE identity_id_seq START WITH 256 MINVALUE 256;

-- Reserved identities, numbered as Cilium numbers them so that tools and habits carry over.
INSERT INTO identity (id, label_key, labels, kind) VALUES
    (1, 'reserved:host',           ARRAY['reserved:host'],           'reserved'),
    (2, 'reserved:world',          ARRAY['reserved:world'],          'reserved'),
    (3, 'reserved:unmanaged',      ARRAY['reserved:unmanaged'],      'reserved'),
    (4, 'reserved:health',         ARRAY['reserved:health'],         'reserved'),
    (5, 'reserved:init',           ARRAY['reserved:init'],           'reserved'),
    (6, 'reserved:remote-node',    ARRAY['reserved:remote-node'],    'reserved'),
    (7, 'reserved:kube-apiserver', ARRAY['reserved:kube-apiserver'], 'reserved');

-- A policy as the user wrote it. Each apply that changes it adds a revision.
CREATE TABLE policy (
    id          BIGSERIAL   PRIMARY KEY,
    -- 'NetworkPolicy' (networking.k8s.io/v1) or Weir's own kind.
    kind        TEXT        NOT NULL,
    -- Empty for cluster-wide policies.
    namespace   TEXT        NOT NULL DEFAULT '',
    name        TEXT        NOT NULL,
    revision    BIGINT      NOT NULL CHECK (revision > 0),
    deleted_at  TIMESTAMPTZ,
    UNIQUE (kind, namespace, name)
);

CREATE TABLE policy_revision (
    policy_id   BIGINT      NOT NULL REFERENCES policy (id),
    revision    BIGINT      NOT NULL,
    -- The policy object, normalised to JSON; null for the revision that deleted it.
    document    JSONB,
    -- Where it came from: 'api' or 'kubernetes'.
    source      TEXT        NOT NULL,
    author      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_id, revision)
);
