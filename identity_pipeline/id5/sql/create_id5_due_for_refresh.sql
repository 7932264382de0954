-- Rebuild id5_due_for_refresh. Params: $now (pipeline time, naive UTC), $refresh_days (an ID5
-- ID older than this is refreshed), $only_new (true: identities never sent before only).
-- Emails only. An email is due for the first reason that holds: the shared rule
-- (mapping_due_reason, from mapping/sql/create_due_macros.sql), then ID5's refresh (its ID is
-- $refresh_days old). Opted-out identities (the opted_out view) never appear.
CREATE OR REPLACE TABLE id5_due_for_refresh AS
WITH candidates AS (
    SELECT
        d.dii_id,
        d.id5_hash,
        d.uid2_hash,
        m.id5_uid,
        m.previous_id5_uid,
        coalesce(
            mapping_due_reason(m.dii_id, m.status = 'error', d.last_seen_at, m.source_seen_at,
                               m.mapped_at),
            CASE
                WHEN m.status = 'mapped' AND m.mapped_at
                         <= CAST($now AS TIMESTAMP) - to_days(CAST($refresh_days AS INTEGER))
                    THEN 'refresh_due'
            END
        ) AS reason
    FROM dii AS d
    LEFT JOIN id5_mapping AS m ON m.dii_id = d.dii_id
    WHERE d.dii_type = 'email'
      AND d.id5_hash IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM opted_out AS o WHERE o.uid2_hash = d.uid2_hash)
      AND (NOT CAST($only_new AS BOOLEAN) OR m.dii_id IS NULL)
),
due AS (
    SELECT * FROM candidates WHERE reason IS NOT NULL
),
-- The lineage to keep: the current ID, else the one before it, else the newest in history.
latest_history AS (
    SELECT h.dii_id, arg_max(h.id5_uid, h.last_seen_at) AS id5_uid
    FROM id5_uid_history AS h
    WHERE h.dii_id IN (SELECT dii_id FROM due WHERE id5_uid IS NULL)
    GROUP BY h.dii_id
),
-- Country from the contact rows that carry the email: the newest well-formed alpha-2 code
-- (ip_country_code, from normalize/sql/create_normalize_macros.sql, turns 'uk' into GB).
country AS (
    SELECT ci.uid2_hash, arg_max(ip_country_code(r.country), ci.seen_at) AS country_alpha2
    FROM contact_identities AS ci
    JOIN raw_contacts AS r ON r.source_file = ci.source_file AND r.row_number = ci.row_number
    WHERE ci.dii_type = 'email'
      AND ci.uid2_hash IN (SELECT uid2_hash FROM due)
      AND regexp_full_match(ip_country_code(r.country), '[A-Z]{2}')
    GROUP BY ci.uid2_hash
)
SELECT
    due.dii_id,
    due.id5_hash,
    coalesce(due.id5_uid, due.previous_id5_uid, h.id5_uid) AS known_uid,
    c.country_alpha2,
    due.reason,
    CAST($now AS TIMESTAMP) AS due_since
FROM due
LEFT JOIN latest_history AS h ON h.dii_id = due.dii_id
LEFT JOIN country AS c ON c.uid2_hash = due.uid2_hash;
