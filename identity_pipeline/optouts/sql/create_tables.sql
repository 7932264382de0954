-- Opt-outs are permanent: rows are only ever added. Keyed by the base64 SHA-256 of the
-- normalized email/phone, so an identity that arrives later is excluded too.
CREATE TABLE IF NOT EXISTS optouts (
    uid2_hash    VARCHAR PRIMARY KEY,
    dii_type     VARCHAR,                -- 'email' | 'phone' | NULL when a file gave a bare hash
    source       VARCHAR NOT NULL,       -- 'uid2_api' | 'suppression_file'
    source_file  VARCHAR,                -- relative to landing optouts/, for suppression files
    opted_out_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS optout_files (
    file_path     VARCHAR PRIMARY KEY,   -- relative to the landing optouts/ folder
    checksum      VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,      -- 'loaded' | 'failed'
    error         VARCHAR,
    row_count     BIGINT,
    rejected_rows BIGINT,
    seen_at       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS optout_rejects (
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    field       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    fingerprint VARCHAR,                 -- salted SHA-256 of the value, never the value
    rejected_at TIMESTAMP NOT NULL
);
