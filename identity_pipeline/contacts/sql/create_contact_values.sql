-- One row per (source row, identifier field) of files that dii has not caught up with.
-- Blank values are absent, not invalid; rows without a customer_id cannot be linked.
CREATE OR REPLACE TEMP TABLE ip_contact_values AS
WITH pending AS (
    SELECT file_path FROM contact_files
    WHERE status = 'loaded' AND normalized_checksum IS DISTINCT FROM loaded_checksum
),
rows AS (
    SELECT r.*, coalesce(try_cast(r.updated_at AS TIMESTAMP), r.loaded_at) AS seen_at
    FROM raw_contacts AS r JOIN pending AS p ON r.source_file = p.file_path
),
fields AS (
    SELECT source_file, row_number, nullif(trim(customer_id), '') AS customer_id,
           'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region, seen_at
    FROM rows WHERE nullif(trim(email), '') IS NOT NULL
    UNION ALL
    SELECT source_file, row_number, nullif(trim(customer_id), ''),
           'phone', phone, country, seen_at
    FROM rows WHERE nullif(trim(phone), '') IS NOT NULL
)
SELECT * FROM fields;

-- Rows with no identifier at all are reported once, as a row-level reject.
CREATE OR REPLACE TEMP TABLE ip_empty_rows AS
SELECT r.source_file, r.row_number
FROM raw_contacts AS r
JOIN contact_files AS f ON r.source_file = f.file_path
WHERE f.status = 'loaded' AND f.normalized_checksum IS DISTINCT FROM f.loaded_checksum
  AND nullif(trim(r.email), '') IS NULL AND nullif(trim(r.phone), '') IS NULL;
