-- Event ingestion tables (issue 15). Only raw_events holds raw emails and phones; every
-- derived table holds them as the UID2 hash (base64 SHA-256 of the normalized value) that
-- the contacts `dii` uses, computed by the same code path (normalize.values).

-- One row per landed file in the landing area's events/ folder (JSON Lines, .jsonl.gz, Parquet).
CREATE TABLE IF NOT EXISTS event_files (
    file_path       VARCHAR PRIMARY KEY,   -- relative to the landing events/ folder
    checksum        VARCHAR NOT NULL,      -- sha256 of the bytes last seen
    size_bytes      BIGINT NOT NULL,
    status          VARCHAR NOT NULL,      -- 'loaded' | 'failed'
    error           VARCHAR,               -- why a file failed (never contains file content)
    loaded_checksum VARCHAR,               -- checksum of the version whose rows are in raw_events
    row_count       BIGINT,                -- rows read from that version (blank lines not counted)
    rejected_rows   BIGINT,                -- events rejected (see event_rejects, kept = false)
    seen_at         TIMESTAMP NOT NULL,
    stored_rows     BIGINT,                -- new events stored from that version
    duplicate_rows  BIGINT,                -- events whose event_id was already stored (kept once)
    forgotten_rows  BIGINT                 -- events dropped: they carry a forgotten identifier
);

-- Every accepted event as it arrived: seed 003's request body plus event_id and created_at.
-- event_id is unique: an event_id seen again (a re-sent event, a file landed twice) is kept once.
CREATE TABLE IF NOT EXISTS raw_events (
    event_id     VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,       -- UTC
    day          DATE NOT NULL,            -- CAST(created_at AS DATE): late files land in their days
    platform     VARCHAR,
    anonymous_id VARCHAR,
    email        VARCHAR,                  -- raw, as sent
    phone        VARCHAR,                  -- raw, as sent
    fbclid       VARCHAR,
    gclid        VARCHAR,                  -- gclid, or gaclid when only that was sent
    payload      VARCHAR NOT NULL,         -- JSON text of the request body exactly as sent
    source_file  VARCHAR NOT NULL,
    line_number  BIGINT NOT NULL,          -- 1-based line (JSON Lines) or row (Parquet)
    ingest_seq   BIGINT NOT NULL,          -- grows with every ingest run; stitching reads what is new
    loaded_at    TIMESTAMP NOT NULL
);

-- The events as every derived table reads them: no raw email or phone.
CREATE TABLE IF NOT EXISTS identity_events (
    event_id     VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    day          DATE NOT NULL,
    platform     VARCHAR,
    action       VARCHAR,                  -- valuation_properties.action (pageview, add_to_cart, purchase, ...)
    properties   JSON,                     -- valuation_properties.properties as sent
    value        DOUBLE,                   -- properties.value when numeric
    currency     VARCHAR,                  -- properties.currency, upper-cased ISO 4217
    anonymous_id VARCHAR,
    email_hash   VARCHAR,                  -- UID2 hash of the normalized email (NULL when invalid/absent)
    phone_hash   VARCHAR,                  -- UID2 hash of the E.164 phone (NULL when invalid/absent)
    fbclid       VARCHAR,
    gclid        VARCHAR,
    source_file  VARCHAR NOT NULL,
    ingest_seq   BIGINT NOT NULL
);

-- Rows skipped on ingest: where and why, never the value.
CREATE TABLE IF NOT EXISTS event_rejects (
    source_file VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    event_id    VARCHAR,                   -- when the row had a usable one
    field       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL,
    kept        BOOLEAN NOT NULL DEFAULT false  -- true: only this field was dropped (an invalid
                                               -- email or phone), the event itself was stored
);

-- Hashed deny-list of forgotten people (privacy requests). An event carrying any of these
-- identifiers is never ingested again. id_hash: for email and phone the UID2 hash of the
-- normalized value (as identity_events); for anonymous_id, fbclid and gclid the same
-- base64 SHA-256 of the trimmed value.
CREATE TABLE IF NOT EXISTS forgotten_identifiers (
    id_type      VARCHAR NOT NULL,         -- email | phone | anonymous_id | fbclid | gclid
    id_hash      VARCHAR NOT NULL,
    request_id   VARCHAR NOT NULL,
    forgotten_at TIMESTAMP NOT NULL
);
