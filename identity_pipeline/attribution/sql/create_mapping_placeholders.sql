-- PLACEHOLDERS, deleted when ID5 mapping merges: the ID5 mapping work owns these tables.
-- Attribution reads them; creating them empty (IF NOT EXISTS, exactly the mapping contract's
-- columns) lets attribution run on a database where mapping has not run yet.

CREATE TABLE IF NOT EXISTS id5_mapping (
    dii_id           BIGINT PRIMARY KEY,
    id5_hash         VARCHAR,
    id5_uid          VARCHAR,
    previous_id5_uid VARCHAR,
    country_alpha2   VARCHAR,
    status           VARCHAR,   -- 'mapped' | 'optout' | 'error'
    error_code       VARCHAR,
    mapped_at        TIMESTAMP
);

CREATE TABLE IF NOT EXISTS id5_uid_history (
    dii_id        BIGINT,
    id5_uid       VARCHAR,
    first_seen_at TIMESTAMP,
    last_seen_at  TIMESTAMP,
    PRIMARY KEY (dii_id, id5_uid)
);
