-- Contact ingestion tables. Only raw_contacts holds raw DII; everything derived holds hashes.

-- One row per landed file: what we last read, and whether dii has caught up with it.
CREATE TABLE IF NOT EXISTS contact_files (
    file_path           VARCHAR PRIMARY KEY,   -- relative to the landing contacts/ folder
    checksum            VARCHAR NOT NULL,      -- sha256 of the bytes last seen
    size_bytes          BIGINT NOT NULL,
    status              VARCHAR NOT NULL,      -- 'loaded' | 'failed'
    error               VARCHAR,               -- why a file failed (never contains file content)
    loaded_checksum     VARCHAR,               -- checksum of the version whose rows are in raw_contacts
    row_count           BIGINT,
    rejected_rows       BIGINT,
    normalized_checksum VARCHAR,               -- checksum of the version dii was built from
    seen_at             TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS raw_contacts (
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,               -- 1-based data row (header excluded)
    customer_id VARCHAR,
    email       VARCHAR,
    phone       VARCHAR,
    country     VARCHAR,
    updated_at  VARCHAR,
    loaded_at   TIMESTAMP NOT NULL
);

-- Per source row and field: the normalized identity's hashes (no raw values).
CREATE TABLE IF NOT EXISTS contact_identities (
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    customer_id VARCHAR NOT NULL,
    dii_type    VARCHAR NOT NULL,
    uid2_hash   VARCHAR NOT NULL,
    id5_hash    VARCHAR,
    seen_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS dii (
    dii_id        BIGINT NOT NULL,
    dii_type      VARCHAR NOT NULL,            -- 'email' | 'phone'
    uid2_hash     VARCHAR NOT NULL,            -- base64 SHA-256 of the normalized value
    id5_hash      VARCHAR,                     -- hex SHA-256, emails only
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    source_count  BIGINT NOT NULL              -- source rows that carry this identity
);

CREATE TABLE IF NOT EXISTS customer_dii (
    customer_id   VARCHAR NOT NULL,
    dii_id        BIGINT NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS dii_rejects (
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    field       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    fingerprint VARCHAR,                       -- salted SHA-256 of the rejected value, never the value
    stage       VARCHAR NOT NULL,              -- 'load' (file parsing) | 'normalize'
    rejected_at TIMESTAMP NOT NULL
);
