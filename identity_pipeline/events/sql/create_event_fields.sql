-- ev_fields: each line of ev_lines (line_number, line) with its JSON root type (`root`, NULL
-- when the line is not JSON), whether it is blank, and, for JSON objects, each field parsed
-- once per list of paths:
-- t = the field's JSON type, v = its text. json_type errors on text that is not JSON, so only
-- objects reach the field functions (try() costs nothing on the valid lines). The line itself
-- stays in ev_lines: only the events stored read it again (as raw_events.payload).
-- Index in t: 1 event_id, 2 created_at, 3 platform, 4 anonymous_id, 5 email, 6 phone, 7 fbclid,
-- 8 gclid, 9 gaclid, 10 valuation_properties, 11 .action, 12 .properties, 13 .properties.value
-- Index in v: 1-9 as t, 10 .action, 11 .properties.value, 12 .properties.currency
CREATE OR REPLACE TEMP TABLE ev_fields AS
WITH rooted AS (
    SELECT line_number, line, try(json_type(line)) AS root FROM ev_lines
),
objects AS (
    SELECT line_number, line, root, CASE WHEN root = 'OBJECT' THEN line END AS j FROM rooted
)
SELECT line_number, root,
    root IS NULL AND trim(line, chr(32) || chr(9) || chr(13)) = '' AS blank,
    json_type(j, ['$.event_id', '$.created_at', '$.platform', '$.anonymous_id', '$.email',
        '$.phone', '$.fbclid', '$.gclid', '$.gaclid', '$.valuation_properties',
        '$.valuation_properties.action', '$.valuation_properties.properties',
        '$.valuation_properties.properties.value']) AS t,
    json_extract_string(j, ['$.event_id', '$.created_at', '$.platform', '$.anonymous_id',
        '$.email', '$.phone', '$.fbclid', '$.gclid', '$.gaclid', '$.valuation_properties.action',
        '$.valuation_properties.properties.value',
        '$.valuation_properties.properties.currency']) AS v,
    json_extract(j, '$.valuation_properties.properties') AS properties
FROM objects;

-- ev_line_rejects: lines that are not a JSON object (blank lines are skipped, not rejected).
CREATE OR REPLACE TEMP TABLE ev_line_rejects AS
SELECT line_number, CAST(NULL AS VARCHAR) AS event_id, 'line' AS field,
    CASE WHEN root IS NULL THEN 'invalid_json' ELSE 'not_a_json_object' END AS reason,
    false AS kept
FROM ev_fields
WHERE root IS DISTINCT FROM 'OBJECT' AND NOT coalesce(blank, true);
