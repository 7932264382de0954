-- Per campaign per day of [$window_start, $window_end): impressions served that day, how many
-- resolved to an identity (attr_id_lookup, select_id_lookup.sql) and how many distinct
-- identities they reached. People reached come from one GROUP BY (day, campaign, identity)
-- whose rows are summed per campaign-day: one pass over the day's impressions, where
-- COUNT(DISTINCT) beside other counts made DuckDB keep and re-read the whole joined set.
-- campaign_attribution joins these rows (as campaign_delivery) with the credit.
-- Portable SQL (CTEs, equality joins); $name marks a bound parameter.
WITH reach AS (
    SELECT i.day, i.campaign_id, l.dii_id, COUNT(*) AS impressions
    FROM impressions AS i
    LEFT JOIN attr_id_lookup AS l ON l.id_type = i.id_type AND l.id = i.id
    WHERE i.day >= CAST($window_start AS DATE) AND i.day < CAST($window_end AS DATE)
    GROUP BY i.day, i.campaign_id, l.dii_id
)
SELECT day, campaign_id,
       CAST(SUM(impressions) AS BIGINT) AS impressions,
       CAST(SUM(CASE WHEN dii_id IS NOT NULL THEN impressions ELSE 0 END) AS BIGINT)
           AS matched_impressions,
       COUNT(dii_id) AS people_reached
FROM reach
GROUP BY day, campaign_id
