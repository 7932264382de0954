-- Emails and phones of the events in ig_events, one row per value, for normalize_table.
SELECT event_id, created_at, 'email' AS dii_type, email AS value, CAST(NULL AS VARCHAR) AS region
FROM ig_events
WHERE nullif(trim(email), '') IS NOT NULL
UNION ALL
SELECT event_id, created_at, 'phone', phone, CAST(NULL AS VARCHAR)
FROM ig_events
WHERE nullif(trim(phone), '') IS NOT NULL
