-- Typed impression rows of one staged file (attr_stage, all VARCHAR), each with the first
-- problem found (reject_field, reject_reason) or NULLs when the row is good.
CREATE OR REPLACE TEMP TABLE attr_typed AS
WITH t AS (
    SELECT row_number,
           nullif(trim(impression_id), '') AS impression_id,
           nullif(trim(ts), '') AS ts_text,
           try_cast(trim(ts) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS ts,
           nullif(trim(campaign_id), '') AS campaign_id,
           lower(trim(id_type)) AS id_type,
           nullif(trim(id), '') AS id,
           nullif(trim(cost), '') AS cost_text,
           try_cast(trim(cost) AS DOUBLE) AS cost
    FROM attr_stage
)
SELECT row_number, impression_id, ts, CAST(ts AS DATE) AS day, campaign_id, id_type, id, cost,
    CASE
        WHEN impression_id IS NULL THEN 'impression_id'
        WHEN ts IS NULL THEN 'ts'
        WHEN campaign_id IS NULL THEN 'campaign_id'
        WHEN id_type IS NULL OR id_type NOT IN ('uid2', 'id5') THEN 'id_type'
        WHEN id IS NULL OR length(id) > 512 THEN 'id'
        WHEN cost_text IS NOT NULL AND (cost IS NULL OR cost < 0 OR isnan(cost)) THEN 'cost'
    END AS reject_field,
    CASE
        WHEN impression_id IS NULL THEN 'missing'
        WHEN ts_text IS NULL THEN 'missing'
        WHEN ts IS NULL THEN 'not_a_timestamp'
        WHEN campaign_id IS NULL THEN 'missing'
        WHEN id_type IS NULL THEN 'missing'
        WHEN id_type NOT IN ('uid2', 'id5') THEN 'unknown_id_type'
        WHEN id IS NULL THEN 'missing'
        WHEN length(id) > 512 THEN 'too_long'
        WHEN cost_text IS NOT NULL AND (cost IS NULL OR isnan(cost)) THEN 'not_a_number'
        WHEN cost_text IS NOT NULL AND cost < 0 THEN 'negative'
    END AS reject_reason
FROM t;
