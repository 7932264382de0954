WITH window_conversions AS (
  SELECT
    conversion_id,
    ts,
    day,
    value,
    currency,
    customer_id,
    uid2_hash
  FROM conversions
  WHERE
    day >= CAST(:window_start AS DATE) AND day < CAST(:window_end AS DATE)
), conversion_identities AS (
  SELECT
    c.day,
    c.conversion_id,
    cd.dii_id
  FROM window_conversions AS c
  JOIN customer_dii AS cd
    ON cd.customer_id = c.customer_id
  UNION
  SELECT
    c.day,
    c.conversion_id,
    d.dii_id
  FROM window_conversions AS c
  JOIN dii AS d
    ON d.uid2_hash = c.uid2_hash
), touches AS (
  SELECT
    c.day,
    c.conversion_id,
    c.ts AS conversion_ts,
    c.value,
    c.currency,
    i.impression_id,
    i.ts AS impression_ts,
    i.campaign_id,
    i.id_type,
    l.dii_id,
    l.matched_via
  FROM window_conversions AS c
  JOIN conversion_identities AS ci
    ON ci.day = c.day AND ci.conversion_id = c.conversion_id
  JOIN attr_id_lookup AS l
    ON l.dii_id = ci.dii_id
  JOIN impressions AS i
    ON i.id_type = l.id_type AND i.id = l.id
  WHERE
    i.day >= CAST(:impressions_from AS DATE)
    AND i.day < CAST(:window_end AS DATE)
    AND i.ts <= c.ts
    AND i.ts >= c.ts - CAST(:lookback_days AS INT) * INTERVAL '1' DAY
), ranked AS (
  SELECT
    t.*,
    COUNT(*) OVER (PARTITION BY day, conversion_id) AS touches,
    CAST(ROW_NUMBER() OVER (PARTITION BY day, conversion_id ORDER BY impression_ts DESC, impression_id DESC) AS BIGINT) AS recency_rank
  FROM touches AS t
)
SELECT
  day,
  conversion_id,
  conversion_ts,
  value,
  currency,
  impression_id,
  impression_ts,
  campaign_id,
  id_type,
  dii_id,
  matched_via,
  touches,
  recency_rank,
  CASE WHEN recency_rank = 1 THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END AS last_touch_credit,
  CAST(1 AS DOUBLE) / touches AS linear_credit,
  CASE WHEN recency_rank = 1 THEN value ELSE CAST(0 AS DOUBLE) END AS last_touch_value,
  value / touches AS linear_value
FROM ranked
