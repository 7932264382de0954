-- The one id -> identity lookup: every ad id (current UID2, previous UID2, current, previous
-- and historical ID5 ID) seen in impressions or named by conversions of days
-- [$impressions_from, $impressions_to), with the dii identity it belongs to. Each
-- (id_type, id) appears once, so joining impressions to it on equality never multiplies rows.
-- Opted-out identities are left out entirely: those of the opted_out view and every identity
-- of a person (person_dii) any of whose emails or phones is opted out, so following the
-- person never reaches around an opt-out.
--
-- When several identities claim an id, current beats previous beats history, then the
-- smallest dii_id. That choice is one GROUP BY with a MIN per preference (a hash aggregate;
-- a ROW_NUMBER window over the same rows sorts them and cost three times as much), so most
-- ids, which have a single candidate, cost one hash-table entry. Candidates meet the seen
-- ids before the opt-out filter (dii_id is never NULL in the mapping tables, so NOT IN is
-- the anti-join): written so, DuckDB hashes the seen ids and the opted-out identities and
-- streams the ~3 candidates per identity past them, where the other order hashed the
-- candidates. The seen ids are a semi-join (IN), not a DISTINCT list joined: one hash table
-- of them instead of a de-duplicating aggregate and then a join table (10M impressions:
-- about a tenth less CPU).
--
-- Portable SQL (CTEs, GROUP BY, equality joins); $name marks a bound parameter.
WITH seen AS (
    SELECT id
    FROM impressions
    WHERE day >= CAST($impressions_from AS DATE) AND day < CAST($impressions_to AS DATE)
    UNION ALL
    SELECT id
    FROM conversions
    WHERE day >= CAST($impressions_from AS DATE) AND day < CAST($impressions_to AS DATE)
      AND id IS NOT NULL
),
-- Each opted-out hash with its own identity and every identity of the person holding it. The
-- opted_out view is read once here (two readings of it scanned dii twice: a tenth of the
-- lookup's time at 10M contacts).
opted_out_reach AS (
    SELECT o.dii_id, pd.dii_id AS person_dii_id
    FROM opted_out AS o
    LEFT JOIN identity_graph AS g
      ON g.id_value = o.uid2_hash AND g.id_type IN ('email', 'phone')
    LEFT JOIN person_dii AS pd ON pd.person_id = g.person_id
),
opted_out_identities AS (
    SELECT dii_id FROM opted_out_reach WHERE dii_id IS NOT NULL
    UNION
    SELECT person_dii_id FROM opted_out_reach WHERE person_dii_id IS NOT NULL
),
candidates AS (
    SELECT 'uid2' AS id_type, current_uid AS id, dii_id, 1 AS preference
    FROM uid2_mapping
    WHERE status = 'mapped' AND current_uid IS NOT NULL
    UNION ALL
    SELECT 'uid2', previous_uid, dii_id, 2
    FROM uid2_mapping
    WHERE status = 'mapped' AND previous_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', id5_uid, dii_id, 1
    FROM id5_mapping
    WHERE status = 'mapped' AND id5_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', previous_id5_uid, dii_id, 2
    FROM id5_mapping
    WHERE previous_id5_uid IS NOT NULL
    UNION ALL
    SELECT 'id5', id5_uid, dii_id, 3
    FROM id5_uid_history
    WHERE id5_uid IS NOT NULL
),
seen_candidates AS (
    SELECT c.id_type, c.id, c.dii_id, c.preference
    FROM candidates AS c
    WHERE c.id IN (SELECT id FROM seen)
),
claims AS (
    SELECT id_type, id,
           MIN(CASE WHEN preference = 1 THEN dii_id END) AS current_dii_id,
           MIN(CASE WHEN preference = 2 THEN dii_id END) AS previous_dii_id,
           MIN(CASE WHEN preference = 3 THEN dii_id END) AS history_dii_id
    FROM seen_candidates
    WHERE dii_id NOT IN (SELECT dii_id FROM opted_out_identities)
    GROUP BY id_type, id
)
SELECT id_type, id,
       COALESCE(current_dii_id, previous_dii_id, history_dii_id) AS dii_id,
       CASE WHEN current_dii_id IS NOT NULL THEN id_type || '_current'
            WHEN previous_dii_id IS NOT NULL THEN id_type || '_previous'
            ELSE id_type || '_history' END AS matched_via
FROM claims
