-- UID2 mapping tables. Timestamps are naive UTC. No raw DII: hashes and raw UID2s only.

-- One row per identity ever sent to UID2.
CREATE TABLE IF NOT EXISTS uid2_mapping (
    dii_id          BIGINT PRIMARY KEY,
    uid2_hash       VARCHAR NOT NULL,        -- what we sent (base64 SHA-256)
    dii_type        VARCHAR NOT NULL,        -- 'email' | 'phone'
    current_uid     VARCHAR,                 -- raw UID2 (base64); NULL unless status = 'mapped'
    previous_uid    VARCHAR,                 -- the UID2 before the last rotation we know of
    refresh_from    TIMESTAMP,               -- v3: do not re-map before this
    status          VARCHAR NOT NULL,        -- 'mapped' | 'optout' (permanent) | 'invalid'
    reason          VARCHAR,                 -- why 'invalid' (the operator's word)
    bucket_id       VARCHAR,                 -- v2: salt bucket, for bucket-based refresh
    mapped_at       TIMESTAMP NOT NULL,      -- when we stored the operator's latest answer
    attempts        INTEGER NOT NULL,        -- requests that carried this identity, all time
    source_seen_at  TIMESTAMP                -- dii.last_seen_at when sent: 'invalid' is re-sent
                                             -- only once newer source data carries it again
);

-- v2 refresh: salt buckets the operator reported as rotated.
CREATE TABLE IF NOT EXISTS uid2_bucket_rotations (
    bucket_id    VARCHAR PRIMARY KEY,
    last_updated TIMESTAMP NOT NULL,
    checked_at   TIMESTAMP NOT NULL
);

-- What the next uid2_mapping run sends, and why.
CREATE TABLE IF NOT EXISTS uid2_due_for_refresh (
    dii_id    BIGINT NOT NULL,
    uid2_hash VARCHAR NOT NULL,
    dii_type  VARCHAR NOT NULL,
    reason    VARCHAR NOT NULL,   -- never_mapped | refresh_from_passed | bucket_rotated | no_bucket | seen_again
    due_since TIMESTAMP NOT NULL  -- when this list was built; rows mapped after it are done
);
