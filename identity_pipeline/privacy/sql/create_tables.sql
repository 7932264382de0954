-- Privacy requests (issue 15). No table here holds a requested value: identifiers appear only
-- as salted fingerprints, and the deny-list itself (forgotten_identifiers) is the events'.

-- One audit row per forget request: what kind of identifiers it named and what it removed.
CREATE TABLE IF NOT EXISTS forget_requests (
    request_id            VARCHAR PRIMARY KEY,   -- UUID, printed to whoever asked
    requested_at          TIMESTAMP NOT NULL,
    source                VARCHAR NOT NULL,      -- 'cli' | 'file'
    source_file           VARCHAR,               -- relative to the landing forget/ folder
    row_number            BIGINT,                -- 1-based data row of that file
    id_types              VARCHAR[] NOT NULL,    -- types the request named (email, phone, anonymous_id)
    fingerprints          VARCHAR[] NOT NULL,    -- salted SHA-256 of each requested identifier's hash
    persons_found         BIGINT NOT NULL,       -- live persons holding a requested identifier
    identifiers_forgotten BIGINT NOT NULL,       -- identifiers newly put on the deny-list
    rows_deleted          JSON NOT NULL,         -- {"table": rows} for every table forget reads
    crm_rows_kept         JSON NOT NULL          -- {"dii": n, "customer_dii": n} still carrying
                                                 -- the person's emails/phones (CRM is not touched)
);

-- One row per landed request file: what we last read.
CREATE TABLE IF NOT EXISTS forget_request_files (
    file_path     VARCHAR PRIMARY KEY,   -- relative to the landing forget/ folder
    checksum      VARCHAR NOT NULL,      -- sha256 of the bytes last seen
    status        VARCHAR NOT NULL,      -- 'loaded' | 'failed'
    error         VARCHAR,               -- why a file failed (never contains file content)
    row_count     BIGINT,
    rejected_rows BIGINT,
    seen_at       TIMESTAMP NOT NULL
);

-- Values of request files that could not be used: where and why, never the value.
CREATE TABLE IF NOT EXISTS forget_request_rejects (
    source_file VARCHAR NOT NULL,
    row_number  BIGINT NOT NULL,
    field       VARCHAR NOT NULL,        -- email | phone | anonymous_id | row
    reason      VARCHAR NOT NULL,
    fingerprint VARCHAR,                 -- salted SHA-256 of the value, never the value
    rejected_at TIMESTAMP NOT NULL
);
