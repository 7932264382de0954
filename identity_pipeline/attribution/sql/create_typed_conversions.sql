-- Typed conversion rows of one staged file (attr_stage, all VARCHAR), each with the first
-- problem found (reject_field, reject_reason) or NULLs when the row is good. A row names its
-- person by customer_id, uid2_hash and/or an ad id (id_type 'uid2' | 'id5' with id).
CREATE OR REPLACE TEMP TABLE attr_typed AS
WITH t AS (
    SELECT row_number,
           nullif(trim(conversion_id), '') AS conversion_id,
           nullif(trim(ts), '') AS ts_text,
           try_cast(trim(ts) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS ts,
           nullif(trim(customer_id), '') AS customer_id,
           nullif(trim(uid2_hash), '') AS uid2_hash,
           nullif(trim(value), '') AS value_text,
           try_cast(trim(value) AS DOUBLE) AS value,
           upper(trim(currency)) AS currency,
           lower(nullif(trim(id_type), '')) AS id_type,
           nullif(trim(id), '') AS id
    FROM attr_stage
)
SELECT row_number, conversion_id, ts, CAST(ts AS DATE) AS day, customer_id, uid2_hash, value,
    currency, id_type, id,
    CASE
        WHEN conversion_id IS NULL THEN 'conversion_id'
        WHEN ts IS NULL THEN 'ts'
        WHEN customer_id IS NULL AND uid2_hash IS NULL AND id IS NULL THEN 'customer_id'
        WHEN uid2_hash IS NOT NULL
             AND NOT regexp_full_match(uid2_hash, '[A-Za-z0-9+/]{43}=') THEN 'uid2_hash'
        WHEN id IS NOT NULL AND id_type IS NULL THEN 'id_type'
        WHEN id_type IS NOT NULL AND id_type NOT IN ('uid2', 'id5') THEN 'id_type'
        WHEN id_type IS NOT NULL AND id IS NULL THEN 'id'
        WHEN length(id) > 512 THEN 'id'
        WHEN value IS NULL OR isnan(value) OR isinf(value) THEN 'value'
        WHEN currency IS NULL OR NOT regexp_full_match(currency, '[A-Z]{3}') THEN 'currency'
    END AS reject_field,
    CASE
        WHEN conversion_id IS NULL THEN 'missing'
        WHEN ts_text IS NULL THEN 'missing'
        WHEN ts IS NULL THEN 'not_a_timestamp'
        WHEN customer_id IS NULL AND uid2_hash IS NULL AND id IS NULL
            THEN 'no_customer_id_or_uid2_hash'
        WHEN uid2_hash IS NOT NULL
             AND NOT regexp_full_match(uid2_hash, '[A-Za-z0-9+/]{43}=') THEN 'not_a_base64_sha256'
        WHEN id IS NOT NULL AND id_type IS NULL THEN 'missing'
        WHEN id_type IS NOT NULL AND id_type NOT IN ('uid2', 'id5') THEN 'unknown_id_type'
        WHEN id_type IS NOT NULL AND id IS NULL THEN 'missing'
        WHEN length(id) > 512 THEN 'too_long'
        WHEN value_text IS NULL THEN 'missing'
        WHEN value IS NULL OR isnan(value) OR isinf(value) THEN 'not_a_number'
        WHEN currency IS NULL OR currency = '' THEN 'missing'
        WHEN NOT regexp_full_match(currency, '[A-Z]{3}') THEN 'not_iso_4217'
    END AS reject_reason
FROM t;
