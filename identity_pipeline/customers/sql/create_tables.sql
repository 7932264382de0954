-- Customer scoring (issue 15 item 6): seed 003's customer-scoring pipeline on our own graph.
-- Money is reported in ONE reporting currency: each purchase is converted with
-- currency_rates; a purchase whose currency has no rate is never added to another
-- currency's money: it stays in customer_spend_by_currency and is counted as unconverted.

-- Exchange rates: 1 from_currency = rate to_currency (ISO 4217 codes, upper case). Loaded
-- from the landing area's currency_rates/ folder by customer_metrics (the files replace the
-- table as a whole); with no files there the table is left as it is (write it directly).
CREATE TABLE IF NOT EXISTS currency_rates (
    from_currency VARCHAR NOT NULL,
    to_currency   VARCHAR NOT NULL,
    rate          DOUBLE NOT NULL,         -- > 0
    source_file   VARCHAR,                 -- relative to landing currency_rates/; NULL if written directly
    loaded_at     TIMESTAMP
);

-- Each person's purchases per currency as sent (written with customer_metrics, same step).
CREATE TABLE IF NOT EXISTS customer_spend_by_currency (
    person_id             VARCHAR NOT NULL,
    currency              VARCHAR,         -- NULL: the purchase named no currency
    purchases             BIGINT NOT NULL,
    spend                 DOUBLE NOT NULL, -- in `currency`; a purchase without a value counts 0
    first_purchase_at     TIMESTAMP NOT NULL,
    last_purchase_at      TIMESTAMP NOT NULL,
    reporting_currency    VARCHAR NOT NULL,
    rate_to_reporting     DOUBLE,          -- NULL: no rate, so these purchases are unconverted
    converted_purchases   BIGINT NOT NULL, -- with a rate, or without a value (0 in any currency)
    unconverted_purchases BIGINT NOT NULL, -- a value in a currency without a rate (or no currency)
    spend_reporting       DOUBLE,          -- converted spend; NULL when nothing converted
    as_of                 TIMESTAMP NOT NULL
);

-- customer_metrics: one row per person in `persons`, from person_journal events up to as_of.
CREATE TABLE IF NOT EXISTS customer_metrics (
    person_id                VARCHAR NOT NULL,
    as_of                    TIMESTAMP NOT NULL,
    reporting_currency       VARCHAR NOT NULL,
    total_purchases          BIGINT NOT NULL,  -- events with action 'purchase'
    converted_purchases      BIGINT NOT NULL,
    unconverted_purchases    BIGINT NOT NULL,
    total_spend              DOUBLE NOT NULL,  -- converted purchases, reporting currency
    avg_order_value          DOUBLE NOT NULL,  -- total_spend / converted_purchases (0 if none)
    first_purchase_at        TIMESTAMP,
    last_purchase_at         TIMESTAMP,
    days_active              BIGINT,           -- whole days from first to last purchase
    purchase_frequency       DOUBLE NOT NULL,  -- total_purchases / days_active (0 if days_active = 0)
    engagement_events        BIGINT NOT NULL,  -- events whose action is an engagement action
    engagement_score         DOUBLE NOT NULL,  -- 0.3 * engagement_events + 0.7 * total_purchases
    events                   BIGINT NOT NULL,
    last_event_at            TIMESTAMP,
    last_engagement_at       TIMESTAMP,
    days_since_last_purchase BIGINT,           -- whole days from last purchase to as_of
    days_since_engagement    BIGINT,           -- whole days from last engagement event to as_of
    updated_at               TIMESTAMP NOT NULL
);

-- customer_value: seed 003's predicted 90-day value, reporting currency.
CREATE TABLE IF NOT EXISTS customer_value (
    person_id           VARCHAR NOT NULL,
    as_of               TIMESTAMP NOT NULL,
    reporting_currency  VARCHAR NOT NULL,
    avg_order_value     DOUBLE NOT NULL,
    purchase_frequency  DOUBLE NOT NULL,
    engagement_score    DOUBLE NOT NULL,
    predicted_90d_value DOUBLE NOT NULL,  -- aov * frequency * 90 * (1 + 0.1 * engagement_score)
    updated_at          TIMESTAMP NOT NULL
);

-- customer_segments: one row per person, its segment and every rule it meets.
CREATE TABLE IF NOT EXISTS customer_segments (
    person_id              VARCHAR NOT NULL,
    segment                VARCHAR NOT NULL,  -- lapsed | high_value | engaged_no_purchase | customer | visitor
    is_high_value          BOOLEAN NOT NULL,
    is_lapsed              BOOLEAN NOT NULL,
    is_engaged_no_purchase BOOLEAN NOT NULL,
    predicted_90d_value    DOUBLE NOT NULL,
    total_purchases        BIGINT NOT NULL,
    days_since_last_purchase BIGINT,
    engagement_events      BIGINT NOT NULL,
    days_since_engagement  BIGINT,
    as_of                  TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
