-- Typed conversion rows of one staged file (attr_stage, all VARCHAR), each with the first
-- problem found (reject_field, reject_reason) or NULLs when the row is good. A row names its
-- person by customer_id, uid2_hash and/or an ad id (id_type 'uid2' | 'id5' with id).
-- Each check names its field and reason together; the first that holds wins.
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
),
checked AS (
    SELECT row_number, conversion_id, ts, CAST(ts AS DATE) AS day, customer_id, uid2_hash, value,
        currency, id_type, id,
        CASE
            WHEN conversion_id IS NULL THEN {'field': 'conversion_id', 'reason': 'missing'}
            WHEN ts_text IS NULL THEN {'field': 'ts', 'reason': 'missing'}
            WHEN ts IS NULL THEN {'field': 'ts', 'reason': 'not_a_timestamp'}
            WHEN customer_id IS NULL AND uid2_hash IS NULL AND id IS NULL
                THEN {'field': 'customer_id', 'reason': 'no_customer_id_or_uid2_hash'}
            WHEN uid2_hash IS NOT NULL
                 AND NOT regexp_full_match(uid2_hash, '[A-Za-z0-9+/]{43}=')
                THEN {'field': 'uid2_hash', 'reason': 'not_a_base64_sha256'}
            WHEN id IS NOT NULL AND id_type IS NULL THEN {'field': 'id_type', 'reason': 'missing'}
            WHEN id_type IS NOT NULL AND id_type NOT IN ('uid2', 'id5')
                THEN {'field': 'id_type', 'reason': 'unknown_id_type'}
            WHEN id_type IS NOT NULL AND id IS NULL THEN {'field': 'id', 'reason': 'missing'}
            WHEN length(id) > 512 THEN {'field': 'id', 'reason': 'too_long'}
            WHEN value_text IS NULL THEN {'field': 'value', 'reason': 'missing'}
            WHEN value IS NULL OR isnan(value) OR isinf(value)
                THEN {'field': 'value', 'reason': 'not_a_number'}
            WHEN currency IS NULL OR currency = '' THEN {'field': 'currency', 'reason': 'missing'}
            WHEN NOT regexp_full_match(currency, '[A-Z]{3}')
                THEN {'field': 'currency', 'reason': 'not_iso_4217'}
        END AS reject
    FROM t
)
SELECT * EXCLUDE (reject), reject.field AS reject_field, reject.reason AS reject_reason
FROM checked;
