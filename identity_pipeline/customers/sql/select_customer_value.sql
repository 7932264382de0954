-- Seed 003's predicted 90-day value of each person, in the reporting currency:
-- avg_order_value * purchase_frequency * 90 * (1 + engagement_score * 0.1).
SELECT
    person_id,
    as_of,
    reporting_currency,
    avg_order_value,
    purchase_frequency,
    engagement_score,
    avg_order_value * purchase_frequency * 90 * (1 + engagement_score * 0.1)
        AS predicted_90d_value,
    CAST($scored_at AS TIMESTAMP) AS updated_at
FROM customer_metrics
