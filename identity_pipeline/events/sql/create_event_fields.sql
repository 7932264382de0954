-- ev_objects: each line of ev_lines (line_number, line) and whether it is a JSON object.
-- json_type errors on text that is not JSON and DuckDB may evaluate both sides of an AND, so
-- only text known to be valid reaches it.
CREATE OR REPLACE TEMP TABLE ev_objects AS
SELECT line_number, line,
    coalesce(json_valid(line), false) AS valid,
    coalesce(json_type(CASE WHEN json_valid(line) THEN line ELSE 'null' END) = 'OBJECT', false)
        AS is_object
FROM ev_lines;

-- ev_fields: the JSON objects, parsed once per list of paths: t = each field's JSON type,
-- v = its text.
-- Index in t: 1 event_id, 2 created_at, 3 platform, 4 anonymous_id, 5 email, 6 phone, 7 fbclid,
-- 8 gclid, 9 gaclid, 10 valuation_properties, 11 .action, 12 .properties, 13 .properties.value
-- Index in v: 1-9 as t, 10 .action, 11 .properties.value, 12 .properties.currency
CREATE OR REPLACE TEMP TABLE ev_fields AS
SELECT line_number, line,
    json_type(line, ['$.event_id', '$.created_at', '$.platform', '$.anonymous_id', '$.email',
        '$.phone', '$.fbclid', '$.gclid', '$.gaclid', '$.valuation_properties',
        '$.valuation_properties.action', '$.valuation_properties.properties',
        '$.valuation_properties.properties.value']) AS t,
    json_extract_string(line, ['$.event_id', '$.created_at', '$.platform', '$.anonymous_id',
        '$.email', '$.phone', '$.fbclid', '$.gclid', '$.gaclid', '$.valuation_properties.action',
        '$.valuation_properties.properties.value',
        '$.valuation_properties.properties.currency']) AS v,
    json_extract(line, '$.valuation_properties.properties') AS properties
FROM ev_objects
WHERE is_object;

-- ev_line_rejects: lines that are not a JSON object (blank lines are skipped, not rejected).
CREATE OR REPLACE TEMP TABLE ev_line_rejects AS
SELECT line_number, CAST(NULL AS VARCHAR) AS event_id, 'line' AS field,
    CASE WHEN valid THEN 'not_a_json_object' ELSE 'invalid_json' END AS reason,
    false AS kept
FROM ev_objects
WHERE NOT is_object AND trim(line, chr(32) || chr(9) || chr(13)) <> '';
