WITH delivery AS (
  SELECT
    day,
    campaign_id,
    impressions,
    matched_impressions,
    people_reached
  FROM campaign_delivery
  WHERE
    day >= CAST(:window_start AS DATE) AND day < CAST(:window_end AS DATE)
), credit AS (
  SELECT
    day,
    campaign_id,
    COUNT(DISTINCT conversion_id) AS touched_conversions,
    SUM(CASE WHEN recency_rank = 1 THEN 1 ELSE 0 END) AS last_touch_conversions,
    SUM(CAST(linear_credit AS DECIMAL(38, 9))) AS linear_conversions,
    COUNT(DISTINCT currency) AS currencies,
    MIN(currency) AS currency,
    SUM(CAST(last_touch_value AS DECIMAL(38, 9))) AS last_touch_value,
    SUM(CAST(linear_value AS DECIMAL(38, 9))) AS linear_value
  FROM attributed_conversions
  WHERE
    day >= CAST(:window_start AS DATE) AND day < CAST(:window_end AS DATE)
  GROUP BY
    day,
    campaign_id
)
SELECT
  COALESCE(d.day, c.day) AS day,
  COALESCE(d.campaign_id, c.campaign_id) AS campaign_id,
  COALESCE(d.impressions, 0) AS impressions,
  COALESCE(d.matched_impressions, 0) AS matched_impressions,
  COALESCE(d.people_reached, 0) AS people_reached,
  COALESCE(c.touched_conversions, 0) AS touched_conversions,
  COALESCE(c.last_touch_conversions, 0) AS last_touch_conversions,
  CAST(COALESCE(c.linear_conversions, 0) AS DECIMAL(38, 6)) AS linear_conversions,
  CASE WHEN c.currencies = 1 THEN c.currency END AS currency,
  CAST(CASE
    WHEN c.currencies = 1
    THEN c.last_touch_value
    WHEN c.currencies IS NULL
    THEN 0
  END AS DECIMAL(38, 6)) AS last_touch_value,
  CAST(CASE WHEN c.currencies = 1 THEN c.linear_value WHEN c.currencies IS NULL THEN 0 END AS DECIMAL(38, 6)) AS linear_value
FROM delivery AS d
FULL OUTER JOIN credit AS c
  ON c.day = d.day AND c.campaign_id = d.campaign_id
