-- For each conversion of days [$window_start, $window_end): every impression of the converting
-- person within $lookback_days before it (impression ts in [conversion ts - lookback,
-- conversion ts]), with last-touch credit (latest impression; ties go to the larger
-- impression_id) and linear credit (1 / touches).
--
-- A conversion is a landed row or a purchase event (purchase_events; a landed row with the
-- same id in the window is the same conversion and wins). A landed row names identities by
-- customer_id (all of that customer's identities), uid2_hash (the email identity) and/or an
-- ad id (id_type/id: the identity attr_id_lookup gives it). Its person is every person of the
-- identity graph holding one of those identities' emails or phones, its uid2_hash, or its
-- customer_id; a purchase event's person is the one holding its identifiers. Every identity
-- of those persons (person_dii) earns credit too: credited_through says 'identity' for one the
-- conversion names itself, 'person' for one reached only through the graph. With an empty
-- graph every credit is an 'identity' one, as before persons existed.
-- attr_id_lookup (select_id_lookup.sql) turns impression ids into identities and already
-- excludes opted-out identities and every identity of a person with an opt-out. Equality
-- joins only. Portable SQL (CTEs, window functions); $name marks a bound parameter.
WITH landed AS (
    SELECT conversion_id, ts, day, value, currency, customer_id, uid2_hash, id_type, id
    FROM conversions
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
),
purchases AS (
    SELECT event_id AS conversion_id, created_at AS ts, day, value, currency,
           anonymous_id, email_hash, phone_hash, fbclid, gclid
    FROM purchase_events
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
      AND event_id NOT IN (SELECT conversion_id FROM landed)
),
window_conversions AS (
    SELECT conversion_id, ts, day, value, currency FROM landed
    UNION ALL
    SELECT conversion_id, ts, day, value, currency FROM purchases
),
named_identities AS (
    SELECT c.day, c.conversion_id, cd.dii_id
    FROM landed AS c
    JOIN customer_dii AS cd ON cd.customer_id = c.customer_id
    UNION
    SELECT c.day, c.conversion_id, d.dii_id
    FROM landed AS c
    JOIN dii AS d ON d.uid2_hash = c.uid2_hash
    UNION
    SELECT c.day, c.conversion_id, l.dii_id
    FROM landed AS c
    JOIN attr_id_lookup AS l ON l.id_type = c.id_type AND l.id = c.id
),
-- The graph identifiers (id_type, id_value) that can name a conversion's person: its named
-- identities' emails and phones, its uid2_hash (an email's or phone's), its customer_id, and
-- a purchase event's identifiers. One list, so the graph is read by one equality join.
person_keys AS (
    SELECT n.day, n.conversion_id, d.dii_type AS id_type, d.uid2_hash AS id_value
    FROM named_identities AS n
    JOIN dii AS d ON d.dii_id = n.dii_id
    UNION ALL
    SELECT day, conversion_id, 'email', uid2_hash FROM landed WHERE uid2_hash IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'phone', uid2_hash FROM landed WHERE uid2_hash IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'customer_id', customer_id FROM landed WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'email', email_hash FROM purchases WHERE email_hash IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'phone', phone_hash FROM purchases WHERE phone_hash IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'anonymous_id', anonymous_id
    FROM purchases WHERE anonymous_id IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'fbclid', fbclid FROM purchases WHERE fbclid IS NOT NULL
    UNION ALL
    SELECT day, conversion_id, 'gclid', gclid FROM purchases WHERE gclid IS NOT NULL
),
conversion_persons AS (
    SELECT DISTINCT k.day, k.conversion_id, g.person_id
    FROM person_keys AS k
    JOIN identity_graph AS g ON g.id_type = k.id_type AND g.id_value = k.id_value
),
conversion_identities AS (
    SELECT day, conversion_id, dii_id, MIN(credited_through) AS credited_through
    FROM (
        SELECT day, conversion_id, dii_id, 'identity' AS credited_through
        FROM named_identities
        UNION ALL
        SELECT cp.day, cp.conversion_id, pd.dii_id, 'person'
        FROM conversion_persons AS cp
        JOIN person_dii AS pd ON pd.person_id = cp.person_id
    ) AS reached
    GROUP BY day, conversion_id, dii_id
),
-- The ad ids of each conversion's identities. The rows are already unique (one per
-- conversion, identity and id); DISTINCT only makes this small set a step of its own, so the
-- impressions are joined to it by id afterwards, where DuckDB otherwise joined every impression
-- to the whole lookup first (10x the rows, and a hash table of the lookup).
conversion_ids AS (
    SELECT DISTINCT ci.day, ci.conversion_id, ci.credited_through, l.dii_id, l.id_type, l.id,
           l.matched_via
    FROM conversion_identities AS ci
    JOIN attr_id_lookup AS l ON l.dii_id = ci.dii_id
),
touches AS (
    SELECT c.day, c.conversion_id, c.ts AS conversion_ts, c.value, c.currency,
           i.impression_id, i.ts AS impression_ts, i.campaign_id, i.id_type,
           n.dii_id, n.matched_via, n.credited_through
    FROM window_conversions AS c
    JOIN conversion_ids AS n
      ON n.day = c.day AND n.conversion_id = c.conversion_id
    JOIN impressions AS i ON i.id_type = n.id_type AND i.id = n.id
    WHERE i.day >= CAST($impressions_from AS DATE)
      AND i.day < CAST($window_end AS DATE)
      AND i.ts <= c.ts
      AND i.ts >= c.ts - CAST($lookback_days AS INTEGER) * INTERVAL '1' DAY
),
ranked AS (
    SELECT t.*,
           COUNT(*) OVER (PARTITION BY day, conversion_id) AS touches,
           ROW_NUMBER() OVER (
               PARTITION BY day, conversion_id ORDER BY impression_ts DESC, impression_id DESC
           ) AS recency_rank
    FROM touches AS t
)
SELECT day, conversion_id, conversion_ts, value, currency, impression_id, impression_ts,
       campaign_id, id_type, dii_id, matched_via, touches, recency_rank,
       CASE WHEN recency_rank = 1 THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END
           AS last_touch_credit,
       CAST(1 AS DOUBLE) / touches AS linear_credit,
       CASE WHEN recency_rank = 1 THEN value ELSE CAST(0 AS DOUBLE) END AS last_touch_value,
       value / touches AS linear_value,
       credited_through
FROM ranked
