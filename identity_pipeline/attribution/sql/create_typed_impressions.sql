-- Typed impression rows of one staged file (attr_stage, all VARCHAR), each with the first
-- problem found (reject_field, reject_reason) or NULLs when the row is good. Each check names
-- its field and reason together; the first that holds wins.
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
),
checked AS (
    SELECT row_number, impression_id, ts, CAST(ts AS DATE) AS day, campaign_id, id_type, id, cost,
        CASE
            WHEN impression_id IS NULL THEN {'field': 'impression_id', 'reason': 'missing'}
            WHEN ts_text IS NULL THEN {'field': 'ts', 'reason': 'missing'}
            WHEN ts IS NULL THEN {'field': 'ts', 'reason': 'not_a_timestamp'}
            WHEN campaign_id IS NULL THEN {'field': 'campaign_id', 'reason': 'missing'}
            WHEN id_type IS NULL THEN {'field': 'id_type', 'reason': 'missing'}
            WHEN id_type NOT IN ('uid2', 'id5') THEN {'field': 'id_type', 'reason': 'unknown_id_type'}
            WHEN id IS NULL THEN {'field': 'id', 'reason': 'missing'}
            WHEN length(id) > 512 THEN {'field': 'id', 'reason': 'too_long'}
            WHEN cost_text IS NOT NULL AND (cost IS NULL OR isnan(cost))
                THEN {'field': 'cost', 'reason': 'not_a_number'}
            WHEN cost_text IS NOT NULL AND cost < 0 THEN {'field': 'cost', 'reason': 'negative'}
        END AS reject
    FROM t
)
SELECT * EXCLUDE (reject), reject.field AS reject_field, reject.reason AS reject_reason
FROM checked;
