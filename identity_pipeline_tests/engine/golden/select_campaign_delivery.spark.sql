WITH reach AS (
  SELECT
    i.day,
    i.campaign_id,
    l.dii_id,
    COUNT(*) AS impressions
  FROM impressions AS i
  LEFT JOIN attr_id_lookup AS l
    ON l.id_type = i.id_type AND l.id = i.id
  WHERE
    i.day >= CAST(:window_start AS DATE) AND i.day < CAST(:window_end AS DATE)
  GROUP BY
    i.day,
    i.campaign_id,
    l.dii_id
)
SELECT
  day,
  campaign_id,
  CAST(SUM(impressions) AS BIGINT) AS impressions,
  CAST(SUM(CASE WHEN NOT dii_id IS NULL THEN impressions ELSE 0 END) AS BIGINT) AS matched_impressions,
  COUNT(dii_id) AS people_reached
FROM reach
GROUP BY
  day,
  campaign_id
