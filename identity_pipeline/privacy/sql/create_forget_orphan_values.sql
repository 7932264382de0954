-- Emails and phones of raw events that identity_events does not hold (yet), one row per
-- value, for normalize_table: forget finds them by hash like every other event.
CREATE OR REPLACE TEMP TABLE fg_orphan_values AS
WITH orphans AS (
    SELECT r.event_id, r.email, r.phone FROM raw_events AS r
    WHERE NOT EXISTS (SELECT 1 FROM identity_events AS e WHERE e.event_id = r.event_id)
)
SELECT event_id, 'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region
FROM orphans WHERE nullif(trim(email), '') IS NOT NULL
UNION ALL
SELECT event_id, 'phone', phone, CAST(NULL AS VARCHAR)
FROM orphans WHERE nullif(trim(phone), '') IS NOT NULL;
