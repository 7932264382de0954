-- Each person's purchases (action 'purchase') up to $as_of, per currency as sent, and their
-- value in $reporting_currency. A currency converts at 1 when it is the reporting currency,
-- else at its direct rate (from_currency -> reporting), else at 1 / the inverse rate
-- (reporting -> it); the direct rate wins. No chaining through a third currency. A purchase
-- without a value counts 0 (seed 003's default), which is 0 in every currency; a value in a
-- currency without a rate (or with no currency) is unconverted: never added to other money.
WITH rate_candidates AS (
    SELECT UPPER(from_currency) AS currency, rate AS rate_to_reporting, 1 AS preference
    FROM currency_rates
    WHERE UPPER(to_currency) = $reporting_currency AND UPPER(from_currency) <> $reporting_currency
    UNION ALL
    SELECT UPPER(to_currency) AS currency, 1.0 / rate AS rate_to_reporting, 2 AS preference
    FROM currency_rates
    WHERE UPPER(from_currency) = $reporting_currency AND UPPER(to_currency) <> $reporting_currency
),
ranked_rates AS (
    SELECT
        currency,
        rate_to_reporting,
        ROW_NUMBER() OVER (
            PARTITION BY currency ORDER BY preference, rate_to_reporting
        ) AS pick
    FROM rate_candidates
),
purchases AS (
    SELECT
        person_id,
        created_at,
        value,
        NULLIF(UPPER(TRIM(currency)), '') AS currency
    FROM person_journal
    WHERE action = 'purchase' AND created_at <= CAST($as_of AS TIMESTAMP)
),
priced AS (
    SELECT
        p.person_id,
        p.created_at,
        p.value,
        p.currency,
        CASE
            WHEN p.currency = $reporting_currency THEN 1.0
            ELSE r.rate_to_reporting
        END AS rate_to_reporting
    FROM purchases AS p
    LEFT JOIN ranked_rates AS r ON r.currency = p.currency AND r.pick = 1
)
SELECT
    person_id,
    currency,
    COUNT(*) AS purchases,
    SUM(COALESCE(value, 0.0)) AS spend,
    MIN(created_at) AS first_purchase_at,
    MAX(created_at) AS last_purchase_at,
    $reporting_currency AS reporting_currency,
    MAX(rate_to_reporting) AS rate_to_reporting,
    SUM(CASE WHEN value IS NULL OR rate_to_reporting IS NOT NULL THEN 1 ELSE 0 END)
        AS converted_purchases,
    SUM(CASE WHEN value IS NOT NULL AND rate_to_reporting IS NULL THEN 1 ELSE 0 END)
        AS unconverted_purchases,
    SUM(
        CASE
            WHEN value IS NULL THEN 0.0
            WHEN rate_to_reporting IS NOT NULL THEN value * rate_to_reporting
        END
    ) AS spend_reporting,
    CAST($as_of AS TIMESTAMP) AS as_of
FROM priced
GROUP BY person_id, currency
