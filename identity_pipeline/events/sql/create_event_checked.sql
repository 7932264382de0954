-- ev_checked: ev_fields with the first problem that rejects the whole event (NULL: none) and
-- the typed values. Seed 003: every field is a string but valuation_properties (an object of
-- `action`, a string, and `properties`, an object); event_id and created_at are required; at
-- least one of anonymous_id and email. created_at is ISO 8601 (a 'Z' or an offset, else UTC).
CREATE OR REPLACE TEMP TABLE ev_checked AS
WITH typed AS (
    SELECT line_number, t, properties,
        trim(v[1]) AS event_id,
        v[2] AS created_text,
        CAST(timezone('UTC', TRY_CAST(v[2] AS TIMESTAMPTZ)) AS TIMESTAMP) AS created_at,
        v[3] AS platform,
        v[4] AS anonymous_id,
        v[5] AS email,
        v[6] AS phone,
        v[7] AS fbclid,
        v[8] AS gclid,
        v[9] AS gaclid,
        v[10] AS action,
        CASE WHEN t[13] IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(v[11] AS DOUBLE)
             WHEN t[13] = 'VARCHAR' THEN TRY_CAST(trim(v[11]) AS DOUBLE) END AS value,
        CASE WHEN regexp_full_match(upper(trim(v[12])), '[A-Z]{3}') THEN upper(trim(v[12]))
             END AS currency,
        -- the first of fields 3-9 (strings) holding something else than a string or null
        list_position(list_transform(t[3:9],
            lambda x: coalesce(x, 'NULL') IN ('VARCHAR', 'NULL')), false) AS bad_string
    FROM ev_fields WHERE root = 'OBJECT'
)
SELECT *,
    CASE
        WHEN coalesce(t[1], 'NULL') = 'NULL' THEN {'field': 'event_id', 'reason': 'missing'}
        WHEN t[1] <> 'VARCHAR' THEN {'field': 'event_id', 'reason': 'wrong_type'}
        WHEN event_id = '' THEN {'field': 'event_id', 'reason': 'blank'}
        WHEN length(event_id) > 256 THEN {'field': 'event_id', 'reason': 'too_long'}
        WHEN coalesce(t[2], 'NULL') = 'NULL' THEN {'field': 'created_at', 'reason': 'missing'}
        WHEN t[2] <> 'VARCHAR' THEN {'field': 'created_at', 'reason': 'wrong_type'}
        WHEN created_at IS NULL
            OR NOT regexp_matches(created_text, '^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}')
            THEN {'field': 'created_at', 'reason': 'invalid_timestamp'}
        WHEN created_at < TIMESTAMP '2000-01-01' OR created_at >= TIMESTAMP '2100-01-01'
            THEN {'field': 'created_at', 'reason': 'out_of_range'}
        WHEN bad_string IS NOT NULL
            THEN {'field': ['platform', 'anonymous_id', 'email', 'phone', 'fbclid', 'gclid',
                            'gaclid'][bad_string], 'reason': 'wrong_type'}
        WHEN coalesce(t[10], 'OBJECT') NOT IN ('OBJECT', 'NULL')
            THEN {'field': 'valuation_properties', 'reason': 'wrong_type'}
        WHEN coalesce(t[11], 'VARCHAR') NOT IN ('VARCHAR', 'NULL')
            THEN {'field': 'valuation_properties.action', 'reason': 'wrong_type'}
        WHEN coalesce(t[12], 'OBJECT') NOT IN ('OBJECT', 'NULL')
            THEN {'field': 'valuation_properties.properties', 'reason': 'wrong_type'}
        WHEN nullif(trim(anonymous_id), '') IS NULL AND nullif(trim(email), '') IS NULL
            THEN {'field': 'anonymous_id,email', 'reason': 'missing_anonymous_id_and_email'}
    END AS problem
FROM typed;

-- The emails and phones of events without a problem, for normalize_table (the dii code path).
CREATE OR REPLACE TEMP TABLE ev_dii_input AS
SELECT line_number, 'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region
FROM ev_checked WHERE problem IS NULL AND nullif(trim(email), '') IS NOT NULL
UNION ALL
SELECT line_number, 'phone', phone, CAST(NULL AS VARCHAR)
FROM ev_checked WHERE problem IS NULL AND nullif(trim(phone), '') IS NOT NULL;
