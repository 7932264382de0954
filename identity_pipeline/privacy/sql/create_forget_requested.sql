-- The requested identifiers as the graph stores them, from fg_request_values(request_no, field,
-- ordinal, value, region) and fg_dii_normalized (its email and phone rows through normalize_table, the
-- code path of the contacts `dii`). `plain` (normalized email, E.164 digits, trimmed id) is
-- what blocked patterns match; it lives only in this temp table.
CREATE OR REPLACE TEMP TABLE fg_requested_all AS
SELECT request_no, field, ordinal, dii_type AS id_type, uid2_hash AS id_value,
    CASE WHEN dii_type = 'phone' THEN ltrim(normalized, '+') ELSE normalized END AS plain,
    error
FROM fg_dii_normalized
UNION ALL
SELECT request_no, field, ordinal, field, nullif(trim(value), ''), nullif(trim(value), ''),
    CASE WHEN nullif(trim(value), '') IS NULL THEN 'value_missing' END
FROM fg_request_values
WHERE field = 'anonymous_id';

-- A placeholder (test@test.com, 0000000000, anonymous, null, -1, ...) names nobody: forgetting
-- it would drop every event that carries it, so it is refused.
UPDATE fg_requested_all SET error = 'blocked_value'
WHERE error IS NULL AND EXISTS (
    SELECT 1 FROM fg_blocked_patterns AS b
    WHERE b.id_type IN ('*', fg_requested_all.id_type)
      AND regexp_matches(fg_requested_all.plain, b.pattern)
);
