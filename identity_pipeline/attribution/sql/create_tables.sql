-- Attribution tables. Ids in impressions are pseudonymous ad ids; no raw emails or phones.

-- One row per landed impressions/conversions file: what we last read and what it covered.
CREATE TABLE IF NOT EXISTS attribution_files (
    kind          VARCHAR NOT NULL,      -- 'impressions' | 'conversions'
    file_path     VARCHAR NOT NULL,      -- relative to the landing kind/ folder
    checksum      VARCHAR NOT NULL,      -- sha256 of the bytes last seen
    size_bytes    BIGINT NOT NULL,
    status        VARCHAR NOT NULL,      -- 'loaded' | 'failed'
    error         VARCHAR,               -- why a file failed (never file content)
    row_count     BIGINT,
    rejected_rows BIGINT,
    first_day     DATE,
    last_day      DATE,
    seen_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, file_path)
);

-- Every good row of every landed file, typed; a file's rows are swapped as a whole.
CREATE TABLE IF NOT EXISTS landed_impressions (
    source_file   VARCHAR NOT NULL,
    row_number    BIGINT NOT NULL,
    impression_id VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,    -- naive UTC
    day           DATE NOT NULL,
    campaign_id   VARCHAR NOT NULL,
    id_type       VARCHAR NOT NULL,      -- 'uid2' | 'id5'
    id            VARCHAR NOT NULL,
    cost          DOUBLE,
    loaded_at     TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS landed_conversions (
    source_file   VARCHAR NOT NULL,
    row_number    BIGINT NOT NULL,
    conversion_id VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    day           DATE NOT NULL,
    customer_id   VARCHAR,
    uid2_hash     VARCHAR,               -- base64 SHA-256 of the normalized email
    value         DOUBLE NOT NULL,
    currency      VARCHAR NOT NULL,
    loaded_at     TIMESTAMP NOT NULL,
    id_type       VARCHAR,               -- an ad id naming the person: 'uid2' | 'id5'
    id            VARCHAR
);

-- Rows we could not use: file, row, field and reason only, never the value.
CREATE TABLE IF NOT EXISTS attribution_rejects (
    kind        VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    field       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    rejected_at TIMESTAMP NOT NULL
);

-- Daily partitions (day = UTC date of ts), one row per id; rebuilt a day range at a time.
CREATE TABLE IF NOT EXISTS impressions (
    day           DATE NOT NULL,
    impression_id VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    campaign_id   VARCHAR NOT NULL,
    id_type       VARCHAR NOT NULL,
    id            VARCHAR NOT NULL,
    cost          DOUBLE,
    source_file   VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS conversions (
    day           DATE NOT NULL,
    conversion_id VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    customer_id   VARCHAR,
    uid2_hash     VARCHAR,
    value         DOUBLE NOT NULL,
    currency      VARCHAR NOT NULL,
    source_file   VARCHAR NOT NULL,
    id_type       VARCHAR,
    id            VARCHAR
);

-- One row per (conversion, impression of the converting person within the lookback window).
CREATE TABLE IF NOT EXISTS attributed_conversions (
    day               DATE NOT NULL,     -- the conversion's day
    conversion_id     VARCHAR NOT NULL,
    conversion_ts     TIMESTAMP NOT NULL,
    value             DOUBLE NOT NULL,
    currency          VARCHAR NOT NULL,
    impression_id     VARCHAR NOT NULL,
    impression_ts     TIMESTAMP NOT NULL,
    campaign_id       VARCHAR NOT NULL,
    id_type           VARCHAR NOT NULL,
    dii_id            BIGINT NOT NULL,
    matched_via       VARCHAR NOT NULL,  -- uid2_current | uid2_previous | id5_current | id5_previous | id5_history
    touches           BIGINT NOT NULL,   -- impressions credited for this conversion
    recency_rank      BIGINT NOT NULL,   -- 1 = last touch
    last_touch_credit DOUBLE NOT NULL,
    linear_credit     DOUBLE NOT NULL,
    last_touch_value  DOUBLE NOT NULL,
    linear_value      DOUBLE NOT NULL,
    credited_through  VARCHAR            -- 'identity': an identity the conversion names itself
                                         -- (customer_id, uid2_hash, ad id); 'person': another
                                         -- identity of its person in the identity graph
);

-- Per campaign per day: delivery on that day and credit for that day's conversions.
CREATE TABLE IF NOT EXISTS campaign_attribution (
    day                    DATE NOT NULL,
    campaign_id            VARCHAR NOT NULL,
    impressions            BIGINT NOT NULL,
    matched_impressions    BIGINT NOT NULL,
    people_reached         BIGINT NOT NULL,
    touched_conversions    BIGINT NOT NULL,
    last_touch_conversions BIGINT NOT NULL,
    linear_conversions     DECIMAL(38, 6) NOT NULL,
    currency               VARCHAR,          -- NULL when the day's conversions mix currencies
    last_touch_value       DECIMAL(38, 6),   -- NULL with currency: we never add currencies up
    linear_value           DECIMAL(38, 6)
);

-- Columns added after the tables first shipped (warehouses created before get them here; new
-- ones already have them from the CREATE above, in the same order).
ALTER TABLE landed_conversions ADD COLUMN IF NOT EXISTS id_type VARCHAR;
ALTER TABLE landed_conversions ADD COLUMN IF NOT EXISTS id VARCHAR;
ALTER TABLE conversions ADD COLUMN IF NOT EXISTS id_type VARCHAR;
ALTER TABLE conversions ADD COLUMN IF NOT EXISTS id VARCHAR;
ALTER TABLE attributed_conversions ADD COLUMN IF NOT EXISTS credited_through VARCHAR;
