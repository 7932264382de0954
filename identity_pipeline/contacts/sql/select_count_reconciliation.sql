-- Every identifier field of every loaded row ends up exactly once: as a link in
-- contact_identities or as a normalize-stage reject; a row with no identifier is one reject.
WITH fields AS (
    SELECT
        (nullif(trim(email), '') IS NOT NULL)::INTEGER
        + (nullif(trim(phone), '') IS NOT NULL)::INTEGER AS n
    FROM raw_contacts
)
SELECT
    (SELECT coalesce(sum(CASE WHEN n = 0 THEN 1 ELSE n END), 0) FROM fields) AS expected,
    (SELECT count(*) FROM contact_identities) AS linked,
    (SELECT count(*) FROM dii_rejects WHERE stage = 'normalize') AS rejected
