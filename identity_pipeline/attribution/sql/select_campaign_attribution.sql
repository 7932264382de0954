-- Per campaign per day of [$window_start, $window_end): the delivery (campaign_delivery:
-- select_campaign_delivery.sql's rows for those days) and the credit the campaign earned for
-- that day's conversions (from attributed_conversions). Values are summed only when a
-- campaign-day's conversions share one currency; otherwise they are NULL. Sums are exact
-- DECIMALs, so a rebuild gives identical numbers whatever order rows arrive in.
-- Portable SQL (CTEs, FULL OUTER JOIN); $name marks a bound parameter.
WITH delivery AS (
    SELECT day, campaign_id, impressions, matched_impressions, people_reached
    FROM campaign_delivery
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
),
credit AS (
    SELECT day, campaign_id,
           COUNT(DISTINCT conversion_id) AS touched_conversions,
           SUM(CASE WHEN recency_rank = 1 THEN 1 ELSE 0 END) AS last_touch_conversions,
           SUM(CAST(linear_credit AS DECIMAL(38, 9))) AS linear_conversions,
           COUNT(DISTINCT currency) AS currencies,
           MIN(currency) AS currency,
           SUM(CAST(last_touch_value AS DECIMAL(38, 9))) AS last_touch_value,
           SUM(CAST(linear_value AS DECIMAL(38, 9))) AS linear_value
    FROM attributed_conversions
    WHERE day >= CAST($window_start AS DATE) AND day < CAST($window_end AS DATE)
    GROUP BY day, campaign_id
)
SELECT COALESCE(d.day, c.day) AS day,
       COALESCE(d.campaign_id, c.campaign_id) AS campaign_id,
       COALESCE(d.impressions, 0) AS impressions,
       COALESCE(d.matched_impressions, 0) AS matched_impressions,
       COALESCE(d.people_reached, 0) AS people_reached,
       COALESCE(c.touched_conversions, 0) AS touched_conversions,
       COALESCE(c.last_touch_conversions, 0) AS last_touch_conversions,
       CAST(COALESCE(c.linear_conversions, 0) AS DECIMAL(38, 6)) AS linear_conversions,
       CASE WHEN c.currencies = 1 THEN c.currency END AS currency,
       CAST(CASE WHEN c.currencies = 1 THEN c.last_touch_value
                 WHEN c.currencies IS NULL THEN 0 END AS DECIMAL(38, 6)) AS last_touch_value,
       CAST(CASE WHEN c.currencies = 1 THEN c.linear_value
                 WHEN c.currencies IS NULL THEN 0 END AS DECIMAL(38, 6)) AS linear_value
FROM delivery AS d
FULL OUTER JOIN credit AS c ON c.day = d.day AND c.campaign_id = d.campaign_id
