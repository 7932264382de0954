-- ev_forgotten: lines of ev_hashed carrying any identifier of the deny-list. Email and phone
-- match by UID2 hash; anonymous_id, fbclid and gclid (and gaclid) by base64 SHA-256 of the
-- value trimmed of spaces (events.denylist.identifier_hash).
CREATE OR REPLACE TEMP TABLE ev_forgotten AS
SELECT DISTINCT line_number
FROM (
    SELECT line_number, 'email' AS id_type, email_hash AS id_hash FROM ev_hashed
    WHERE email_hash IS NOT NULL
    UNION ALL
    SELECT line_number, 'phone', phone_hash FROM ev_hashed WHERE phone_hash IS NOT NULL
    UNION ALL
    SELECT line_number, 'anonymous_id', to_base64(unhex(sha256(anonymous_key))) FROM ev_hashed
    WHERE anonymous_key IS NOT NULL
    UNION ALL
    SELECT line_number, 'fbclid', to_base64(unhex(sha256(fbclid_key))) FROM ev_hashed
    WHERE fbclid_key IS NOT NULL
    UNION ALL
    SELECT line_number, 'gclid', to_base64(unhex(sha256(trim(gclid)))) FROM ev_hashed
    WHERE nullif(trim(gclid), '') IS NOT NULL
    UNION ALL
    SELECT line_number, 'gclid', to_base64(unhex(sha256(trim(gaclid)))) FROM ev_hashed
    WHERE nullif(trim(gaclid), '') IS NOT NULL
) AS candidate
SEMI JOIN forgotten_identifiers AS f USING (id_type, id_hash);
