-- Each person's segment. Rules (thresholds are run settings):
--   high_value:          predicted_90d_value > $high_value_min_value (seed 003: > 1000)
--   lapsed:              a purchase, the last one more than $lapsed_after_days whole days
--                        before as_of
--   engaged_no_purchase: no purchase, at least $engaged_min_events engagement events, the
--                        last one at most $engaged_within_days whole days before as_of
-- A person may meet several rules (the is_* columns); `segment` is the first that holds in
-- the order lapsed, high_value, engaged_no_purchase, then customer (other buyers) or visitor.
WITH rules AS (
    SELECT
        m.person_id,
        v.predicted_90d_value,
        m.total_purchases,
        m.days_since_last_purchase,
        m.engagement_events,
        m.days_since_engagement,
        m.as_of,
        COALESCE(v.predicted_90d_value > $high_value_min_value, FALSE) AS is_high_value,
        COALESCE(
            m.total_purchases > 0 AND m.days_since_last_purchase > $lapsed_after_days, FALSE
        ) AS is_lapsed,
        COALESCE(
            m.total_purchases = 0
            AND m.engagement_events >= $engaged_min_events
            AND m.days_since_engagement <= $engaged_within_days,
            FALSE
        ) AS is_engaged_no_purchase
    FROM customer_metrics AS m
    INNER JOIN customer_value AS v ON v.person_id = m.person_id
)
SELECT
    person_id,
    CASE
        WHEN is_lapsed THEN 'lapsed'
        WHEN is_high_value THEN 'high_value'
        WHEN is_engaged_no_purchase THEN 'engaged_no_purchase'
        WHEN total_purchases > 0 THEN 'customer'
        ELSE 'visitor'
    END AS segment,
    is_high_value,
    is_lapsed,
    is_engaged_no_purchase,
    predicted_90d_value,
    total_purchases,
    days_since_last_purchase,
    engagement_events,
    days_since_engagement,
    as_of,
    CAST($scored_at AS TIMESTAMP) AS updated_at
FROM rules
