-- Seed 003's customer metrics, one row per person in `persons`, from person_journal events
-- up to $as_of and the purchases already summed per currency in customer_spend_by_currency.
-- Money is in the reporting currency (converted purchases only); counts cover every purchase.
-- first/last purchase are the earliest/latest by created_at (the journal is newest first, so
-- seed 003's loop order is not used); days are whole elapsed days (Python timedelta.days).
-- $engagement_actions is the engagement action list as one string: ',page_view,add_to_cart,'.
WITH events AS (
    SELECT
        person_id,
        created_at,
        CASE
            WHEN STRPOS($engagement_actions, ',' || action || ',') > 0 THEN 1 ELSE 0
        END AS is_engagement
    FROM person_journal
    WHERE created_at <= CAST($as_of AS TIMESTAMP)
),
activity AS (
    SELECT
        person_id,
        COUNT(*) AS events,
        MAX(created_at) AS last_event_at,
        SUM(is_engagement) AS engagement_events,
        MAX(CASE WHEN is_engagement = 1 THEN created_at END) AS last_engagement_at
    FROM events
    GROUP BY person_id
),
spend AS (
    SELECT
        person_id,
        SUM(purchases) AS total_purchases,
        SUM(converted_purchases) AS converted_purchases,
        SUM(unconverted_purchases) AS unconverted_purchases,
        SUM(spend_reporting) AS total_spend,
        MIN(first_purchase_at) AS first_purchase_at,
        MAX(last_purchase_at) AS last_purchase_at
    FROM customer_spend_by_currency
    GROUP BY person_id
),
counted AS (
    SELECT
        p.person_id,
        CAST(COALESCE(s.total_purchases, 0) AS BIGINT) AS total_purchases,
        CAST(COALESCE(s.converted_purchases, 0) AS BIGINT) AS converted_purchases,
        CAST(COALESCE(s.unconverted_purchases, 0) AS BIGINT) AS unconverted_purchases,
        CAST(COALESCE(s.total_spend, 0.0) AS DOUBLE) AS total_spend,
        s.first_purchase_at,
        s.last_purchase_at,
        CAST(
            FLOOR((EPOCH(s.last_purchase_at) - EPOCH(s.first_purchase_at)) / 86400) AS BIGINT
        ) AS days_active,
        CAST(COALESCE(a.engagement_events, 0) AS BIGINT) AS engagement_events,
        CAST(COALESCE(a.events, 0) AS BIGINT) AS events,
        a.last_event_at,
        a.last_engagement_at
    FROM persons AS p
    LEFT JOIN spend AS s ON s.person_id = p.person_id
    LEFT JOIN activity AS a ON a.person_id = p.person_id
)
SELECT
    person_id,
    CAST($as_of AS TIMESTAMP) AS as_of,
    $reporting_currency AS reporting_currency,
    total_purchases,
    converted_purchases,
    unconverted_purchases,
    total_spend,
    CASE
        WHEN converted_purchases > 0 THEN total_spend / converted_purchases ELSE 0.0
    END AS avg_order_value,
    first_purchase_at,
    last_purchase_at,
    days_active,
    CASE
        WHEN days_active > 0 THEN CAST(total_purchases AS DOUBLE) / days_active ELSE 0.0
    END AS purchase_frequency,
    engagement_events,
    0.3 * engagement_events + 0.7 * total_purchases AS engagement_score,
    events,
    last_event_at,
    last_engagement_at,
    CAST(
        FLOOR((EPOCH(CAST($as_of AS TIMESTAMP)) - EPOCH(last_purchase_at)) / 86400) AS BIGINT
    ) AS days_since_last_purchase,
    CAST(
        FLOOR((EPOCH(CAST($as_of AS TIMESTAMP)) - EPOCH(last_engagement_at)) / 86400) AS BIGINT
    ) AS days_since_engagement,
    CAST($scored_at AS TIMESTAMP) AS updated_at
FROM counted
