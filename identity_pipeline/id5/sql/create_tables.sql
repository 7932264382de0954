-- ID5 mapping tables. Timestamps are naive UTC. No raw DII: hex SHA-256 and ID5 IDs only.
-- id5_mapping and id5_uid_history are read by the attribution SQL: their first columns are a
-- contract; new columns go at the end.

-- One row per email identity ever sent to ID5.
CREATE TABLE IF NOT EXISTS id5_mapping (
    dii_id           BIGINT PRIMARY KEY,
    id5_hash         VARCHAR,                -- what we sent (hex SHA-256 of the normalized email)
    id5_uid          VARCHAR,                -- current ID5 ID; NULL unless status = 'mapped'
    previous_id5_uid VARCHAR,                -- the ID5 ID held before the current one
    country_alpha2   VARCHAR,                -- ID5's answer (what we sent, or its own, or 'AA')
    status           VARCHAR,                -- 'mapped' | 'optout' (permanent) | 'error'
    error_code       VARCHAR,                -- per-user error: sha256_length_invalid, ...
    mapped_at        TIMESTAMP,              -- when we stored ID5's latest answer
    attempts         INTEGER,                -- requests that carried this identity, all time
    source_seen_at   TIMESTAMP               -- dii.last_seen_at when sent: an 'error' row is
                                             -- re-sent only once newer source data carries it
);

-- Every ID5 ID an identity was given; kept so impressions under a rotated ID still attribute.
CREATE TABLE IF NOT EXISTS id5_uid_history (
    dii_id        BIGINT,
    id5_uid       VARCHAR,
    first_seen_at TIMESTAMP,
    last_seen_at  TIMESTAMP,
    PRIMARY KEY (dii_id, id5_uid)
);

-- What the next id5_mapping run sends, and why.
CREATE TABLE IF NOT EXISTS id5_due_for_refresh (
    dii_id         BIGINT NOT NULL,
    id5_hash       VARCHAR NOT NULL,
    known_uid      VARCHAR,              -- sent as known_uids: the last ID5 ID we were given
    country_alpha2 VARCHAR,              -- from the contact rows; NULL: not sent (ID5 uses 'AA')
    reason         VARCHAR NOT NULL,     -- never_mapped | refresh_due | seen_again
    due_since      TIMESTAMP NOT NULL    -- when this list was built; rows mapped after it are done
);
