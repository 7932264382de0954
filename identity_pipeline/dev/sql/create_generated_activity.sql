-- Sample impressions: $per_day per day for $days days from $start. $known_pct of them reach
-- one of our $customers customers (gen_identities), the rest strangers. Which ad id a known
-- impression carries is filled in afterwards from the sandboxes (generate_activity.py).
-- Randomness is md5 of (seed, day, slot): the same on every machine.
CREATE OR REPLACE TEMP TABLE gen_impressions AS
WITH slots AS (
    SELECT d.range AS d, k.range AS k,
           md5_number(CAST($seed AS VARCHAR) || ':imp:' || d.range || ':' || k.range) AS h
    FROM range(CAST($days AS BIGINT)) AS d, range(CAST($per_day AS BIGINT)) AS k
),
shaped AS (
    SELECT d, k, h,
        CAST($start AS DATE) + CAST(d AS INTEGER)
            + to_seconds(CAST(h % 86400 AS BIGINT)) AS ts,
        'cmp-' || lpad(CAST(CAST((h >> 20) % 1000 AS INTEGER) % CAST($campaigns AS INTEGER)
                            AS VARCHAR), 2, '0') AS campaign_id,
        CAST((h >> 32) % 100 AS INTEGER) AS r_known,
        CAST((h >> 40) % CAST($customers AS UHUGEINT) AS BIGINT) AS customer_no,
        CAST((h >> 80) % 1000 AS INTEGER) AS r_identity,
        CAST((h >> 90) % 100 AS INTEGER) AS r_id5,
        round(0.0005 + CAST((h >> 100) % 3000 AS DOUBLE) / 1000000, 6) AS cost
    FROM slots
)
SELECT 'imp-' || strftime(CAST(s.ts AS DATE), '%Y%m%d') || '-' || lpad(CAST(s.k AS VARCHAR), 7, '0')
           AS impression_id,
       s.ts, CAST(s.ts AS DATE) AS day, s.campaign_id, s.cost,
       CASE WHEN s.r_known < CAST($known_pct AS INTEGER) THEN s.customer_no END AS customer_no,
       g.dii_type, g.uid2_hash, g.id5_hash,
       CASE
           WHEN s.r_known >= CAST($known_pct AS INTEGER)
               THEN CASE WHEN s.r_id5 < CAST($id5_pct AS INTEGER) THEN 'id5' ELSE 'uid2' END
           WHEN g.dii_type = 'email' AND s.r_id5 < CAST($id5_pct AS INTEGER) THEN 'id5'
           ELSE 'uid2'
       END AS id_type,
       -- strangers get ids that look like the real thing but belong to no one we know
       CASE WHEN s.r_known >= CAST($known_pct AS INTEGER) THEN
           CASE WHEN s.r_id5 < CAST($id5_pct AS INTEGER)
                THEN 'ID5*' || replace(replace(rtrim(to_base64(unhex(md5('x' || s.h) || md5('y' || s.h))), '='), '+', '-'), '/', '_')
                ELSE to_base64(unhex('03' || md5('x' || s.h) || md5('y' || s.h)))
           END
       END AS id
FROM shaped AS s
LEFT JOIN gen_identities AS g
  ON s.r_known < CAST($known_pct AS INTEGER)
 AND g.customer_no = s.customer_no
 AND g.identity_rank = s.r_identity % g.identities;

-- Conversions: some known impressions lead to a conversion up to 20 days later; a few more
-- are organic (no impression). People are named by customer_id or, for a quarter of those
-- with an email, by the email's uid2_hash.
CREATE OR REPLACE TEMP TABLE gen_conversions AS
WITH prompted AS (
    SELECT customer_no,
           ts + to_seconds(CAST(md5_number(CAST($seed AS VARCHAR) || ':lag:' || impression_id)
                               % (20 * 86400) AS BIGINT)) AS ts,
           md5_number(CAST($seed AS VARCHAR) || ':conv:' || impression_id) AS h
    FROM gen_impressions
    WHERE customer_no IS NOT NULL
),
organic AS (
    SELECT CAST(h % CAST($customers AS UHUGEINT) AS BIGINT) AS customer_no,
           CAST($start AS DATE) + to_seconds(CAST((h >> 30) % (CAST($days AS BIGINT) * 86400) AS BIGINT)) AS ts,
           h
    FROM (
        SELECT md5_number(CAST($seed AS VARCHAR) || ':organic:' || i) AS h
        FROM range(CAST($organic AS BIGINT)) AS t(i)
    ) AS o
),
chosen AS (
    SELECT * FROM prompted WHERE h % 1000 < CAST($conversion_permille AS INTEGER)
    UNION ALL
    SELECT * FROM organic
)
SELECT 'cv-' || lower(substr(md5(CAST(c.h AS VARCHAR)), 1, 16)) AS conversion_id,
       c.ts, CAST(c.ts AS DATE) AS day,
       CASE WHEN e.uid2_hash IS NOT NULL AND (c.h >> 64) % 4 = 0 THEN NULL ELSE g.customer_id END
           AS customer_id,
       CASE WHEN e.uid2_hash IS NOT NULL AND (c.h >> 64) % 4 = 0 THEN e.uid2_hash END AS uid2_hash,
       round(5 + CAST((c.h >> 70) % 20000 AS DOUBLE) / 100, 2) AS value,
       'USD' AS currency
FROM chosen AS c
JOIN (SELECT DISTINCT customer_no, customer_id FROM gen_identities) AS g
  ON g.customer_no = c.customer_no
LEFT JOIN (
    SELECT customer_no, min(uid2_hash) AS uid2_hash FROM gen_identities
    WHERE dii_type = 'email' GROUP BY customer_no
) AS e ON e.customer_no = c.customer_no
WHERE c.ts < CAST($start AS DATE) + CAST($days AS INTEGER);
