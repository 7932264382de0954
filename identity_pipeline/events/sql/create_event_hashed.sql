-- ev_hashed: the events of ev_checked without a problem, with their email/phone UID2 hashes
-- from ev_dii (normalize_table's output) and `usable`: seed 003 wants an anonymous_id or an
-- email; an event whose only one is an invalid email is rejected.
CREATE OR REPLACE TEMP TABLE ev_hashed AS
SELECT c.* EXCLUDE (problem, t, created_text, bad_string),
    nullif(trim(c.anonymous_id), '') AS anonymous_key,
    nullif(trim(c.fbclid), '') AS fbclid_key,
    coalesce(nullif(trim(c.gclid), ''), nullif(trim(c.gaclid), '')) AS gclid_key,
    e.uid2_hash AS email_hash, e.error AS email_error,
    p.uid2_hash AS phone_hash, p.error AS phone_error,
    nullif(trim(c.anonymous_id), '') IS NOT NULL OR e.uid2_hash IS NOT NULL AS usable
FROM ev_checked AS c
LEFT JOIN ev_dii AS e ON e.line_number = c.line_number AND e.dii_type = 'email'
LEFT JOIN ev_dii AS p ON p.line_number = c.line_number AND p.dii_type = 'phone'
WHERE c.problem IS NULL;
