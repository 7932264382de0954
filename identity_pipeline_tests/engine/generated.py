"""A small generated attribution world in a DuckDB file, shaped to find engine differences.

Not a benchmark: a few thousand rows chosen so both engines must agree on the awkward cases:
ties on impression time (the impression_id tie-break), an ad id claimed by two identities (the
preference and dii_id tie-break), every id source (current/previous UID2, current/previous/
historical ID5), strangers, three kinds of opt-out, conversions by customer_id, by uid2_hash,
by both and by neither, customers with two identities, mixed currencies in a campaign-day,
linear credit in thirds and sevenths, a day without conversions and a day without impressions.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from identity_pipeline.warehouse import connect, execute_script

FIRST_DAY = date(2025, 5, 1)
DAYS = 8
EMPTY_CONVERSION_DAY = FIRST_DAY + timedelta(days=5)
"""No conversions this day: attributed_conversions must come out empty for it."""
EMPTY_DAY = FIRST_DAY + timedelta(days=6)
"""No impressions and no conversions: campaign_attribution is empty for it too."""

GENERATE_SQL = """
CREATE TEMP TABLE people AS
SELECT i AS dii_id, hash(i, $seed) AS h,
       to_base64(unhex(md5('hash' || i) || md5('hash2' || i))) AS uid2_hash,
       'U' || md5('cur' || i) AS current_uid,
       'U' || md5('prev' || i) AS previous_uid,
       'ID5*' || md5('id5' || i) AS id5_uid,
       'ID5*' || md5('id5old' || i) AS old_id5_uid,
       'ID5*' || md5('id5older' || i) AS older_id5_uid
FROM range(1, CAST($people AS BIGINT) + 1) AS t(i);

INSERT INTO dii BY NAME
SELECT dii_id, CASE WHEN h % 7 = 0 THEN 'phone' ELSE 'email' END AS dii_type, uid2_hash,
       md5(uid2_hash) AS id5_hash, TIMESTAMP '2025-01-01' AS first_seen_at,
       TIMESTAMP '2025-01-02' AS last_seen_at, 1 AS source_count
FROM people;

-- Customers own one or two identities (dii_id 2k-1 and 2k share customer C<k> when h % 3 = 0).
INSERT INTO customer_dii BY NAME
SELECT 'C' || CASE WHEN dii_id % 2 = 0 AND h % 3 = 0 THEN dii_id - 1 ELSE dii_id END
           AS customer_id,
       dii_id, TIMESTAMP '2025-01-01' AS first_seen_at, TIMESTAMP '2025-01-02' AS last_seen_at
FROM people;

-- UID2: 4% opted out at the operator, 2% invalid, 20% rotated (a previous UID2). Every 50th
-- person's previous UID2 is the current UID2 of the next person: one id, two identities.
INSERT INTO uid2_mapping BY NAME
SELECT p.dii_id, p.uid2_hash, 'email' AS dii_type,
       CASE WHEN p.h % 25 = 0 OR p.h % 50 = 1 THEN NULL ELSE p.current_uid END AS current_uid,
       CASE WHEN p.dii_id % 50 = 0 THEN n.current_uid
            WHEN p.h % 5 = 2 THEN p.previous_uid END AS previous_uid,
       TIMESTAMP '2025-09-01' AS refresh_from,
       CASE WHEN p.h % 25 = 0 THEN 'optout' WHEN p.h % 50 = 1 THEN 'invalid' ELSE 'mapped' END
           AS status,
       NULL AS reason, 'b' AS bucket_id, TIMESTAMP '2025-06-01' AS mapped_at, 1 AS attempts
FROM people AS p LEFT JOIN people AS n ON n.dii_id = p.dii_id + 1;

-- ID5 for 60%: a third rotated once (previous), some twice (history only), 2% opted out.
INSERT INTO id5_mapping BY NAME
SELECT dii_id, md5(uid2_hash) AS id5_hash,
       CASE WHEN (h >> 8) % 50 = 0 THEN NULL ELSE id5_uid END AS id5_uid,
       CASE WHEN (h >> 8) % 3 = 0 THEN old_id5_uid END AS previous_id5_uid,
       'US' AS country_alpha2,
       CASE WHEN (h >> 8) % 50 = 0 THEN 'optout' ELSE 'mapped' END AS status,
       TIMESTAMP '2025-06-01' AS mapped_at
FROM people WHERE (h >> 8) % 10 < 6;

INSERT INTO id5_uid_history BY NAME
SELECT dii_id, id5_uid, TIMESTAMP '2025-04-01' AS first_seen_at,
       TIMESTAMP '2025-06-01' AS last_seen_at
FROM people WHERE (h >> 8) % 10 < 6
UNION ALL
SELECT dii_id, older_id5_uid, TIMESTAMP '2025-02-01', TIMESTAMP '2025-03-01'
FROM people WHERE (h >> 8) % 10 < 2;

-- Suppression list: 3% of identities.
INSERT INTO optouts BY NAME
SELECT uid2_hash, 'email' AS dii_type, 'suppression_file' AS source, 'gen.csv' AS source_file,
       TIMESTAMP '2025-04-01' AS opted_out_at
FROM people WHERE (h >> 16) % 33 = 0;

-- Impressions on the hour (so times tie), none on EMPTY_DAY.
CREATE TEMP TABLE gen_impressions AS
WITH r AS (SELECT i, hash(i, $seed, 'imp') AS h FROM range(CAST($impressions AS BIGINT)) t(i)),
shaped AS (
    SELECT i, h, CAST(1 + h % CAST($people AS UBIGINT) AS BIGINT) AS person,
           CAST($first_day AS TIMESTAMP)
               + INTERVAL 1 HOUR * CAST((h >> 20) % (CAST($days AS BIGINT) * 24) AS BIGINT)
               AS ts,
           (h >> 50) % 100 AS pick
    FROM r
)
SELECT CAST(s.ts AS DATE) AS day, 'imp' || lpad(CAST(s.i AS VARCHAR), 6, '0') AS impression_id,
       s.ts, 'cmp-' || (s.i % 9) AS campaign_id,
       CASE WHEN s.pick < 60 OR s.pick >= 85 THEN 'uid2' ELSE 'id5' END AS id_type,
       CASE WHEN s.pick < 45 THEN p.current_uid
            WHEN s.pick < 60 THEN p.previous_uid
            WHEN s.pick < 72 THEN p.id5_uid
            WHEN s.pick < 80 THEN p.old_id5_uid
            WHEN s.pick < 85 THEN p.older_id5_uid
            ELSE 'stranger-' || s.i END AS id,
       0.002 AS cost, 'gen' AS source_file
FROM shaped AS s JOIN people AS p ON p.dii_id = s.person
WHERE CAST(s.ts AS DATE) <> CAST($empty_day AS DATE);
INSERT INTO impressions BY NAME SELECT * FROM gen_impressions;

-- Conversions on the half hour, by customer_id, uid2_hash, both or neither; 10% in EUR; none
-- on EMPTY_CONVERSION_DAY or EMPTY_DAY. Values in cents with thirds and sevenths to split.
INSERT INTO conversions BY NAME
WITH r AS (SELECT i, hash(i, $seed, 'conv') AS h FROM range(CAST($conversions AS BIGINT)) t(i)),
shaped AS (
    SELECT i, h, CAST(1 + h % CAST($people AS UBIGINT) AS BIGINT) AS person,
           CAST($first_day AS TIMESTAMP) + INTERVAL 30 MINUTE
               + INTERVAL 1 HOUR * CAST((h >> 20) % (CAST($days AS BIGINT) * 24) AS BIGINT)
               AS ts,
           (h >> 50) % 10 AS how
    FROM r
)
SELECT CAST(s.ts AS DATE) AS day, 'cv' || lpad(CAST(s.i AS VARCHAR), 5, '0') AS conversion_id,
       s.ts,
       CASE WHEN s.how < 6 OR s.how = 8 THEN cd.customer_id END AS customer_id,
       CASE WHEN s.how >= 6 AND s.how < 9 THEN p.uid2_hash END AS uid2_hash,
       round(1 + CAST((s.h >> 40) % 10000 AS DOUBLE) / 100, 2) AS value,
       CASE WHEN (s.h >> 44) % 10 = 0 THEN 'EUR' ELSE 'USD' END AS currency,
       'gen' AS source_file
FROM shaped AS s JOIN people AS p ON p.dii_id = s.person
JOIN customer_dii AS cd ON cd.dii_id = s.person
WHERE CAST(s.ts AS DATE) NOT IN (CAST($empty_day AS DATE), CAST($empty_conversion_day AS DATE));
DROP TABLE gen_impressions;
DROP TABLE people;
"""


def generate_world(
    db: Path, *, people: int = 600, impressions: int = 8000, conversions: int = 700, seed: int = 7
) -> None:
    """Fill the attribution inputs of the DuckDB file `db` (created if missing)."""
    with connect(db) as con:
        execute_script(
            con,
            GENERATE_SQL,
            {
                "seed": seed,
                "people": people,
                "impressions": impressions,
                "conversions": conversions,
                "first_day": FIRST_DAY,
                "days": DAYS,
                "empty_day": EMPTY_DAY,
                "empty_conversion_day": EMPTY_CONVERSION_DAY,
            },
        )
