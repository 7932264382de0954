-- ev_batch: each event of ev_hashed with its fate: 'rejected' (no usable anonymous_id or
-- email), 'forgotten' (carries a deny-listed identifier), 'duplicate' (its event_id is stored
-- already, or came earlier in this file) or 'stored'. ev_rejects: every reject row of the file.
-- The file's ids are the small side: raw_events is scanned once, never built into a hash table.
CREATE OR REPLACE TEMP TABLE ev_known AS
SELECT DISTINCT r.event_id FROM raw_events AS r SEMI JOIN ev_hashed AS h USING (event_id);

CREATE OR REPLACE TEMP TABLE ev_batch AS
WITH fated AS (
    SELECT h.*,
        CASE WHEN NOT h.usable THEN 'rejected'
             WHEN f.line_number IS NOT NULL THEN 'forgotten' END AS early_fate
    FROM ev_hashed AS h LEFT JOIN ev_forgotten AS f USING (line_number)
),
repeated AS (
    SELECT event_id, min(line_number) AS first_line FROM fated WHERE early_fate IS NULL
    GROUP BY event_id HAVING count(*) > 1
)
SELECT fated.* EXCLUDE (early_fate),
    CASE WHEN early_fate IS NOT NULL THEN early_fate
         WHEN repeated.first_line < fated.line_number OR known.event_id IS NOT NULL
             THEN 'duplicate'
         ELSE 'stored' END AS fate,
    CAST(created_at AS DATE) AS day
FROM fated
LEFT JOIN repeated USING (event_id)
LEFT JOIN ev_known AS known USING (event_id);

CREATE OR REPLACE TEMP TABLE ev_rejects AS
SELECT line_number, event_id, field, reason, kept FROM ev_line_rejects
UNION ALL
SELECT line_number,
    CASE WHEN problem.field <> 'event_id' THEN event_id END, problem.field, problem.reason, false
FROM ev_checked WHERE problem IS NOT NULL
UNION ALL
SELECT line_number, event_id, 'email', email_error, false FROM ev_batch WHERE fate = 'rejected'
UNION ALL
SELECT line_number, event_id, 'email', email_error, true FROM ev_batch
WHERE fate IN ('stored', 'duplicate') AND email_error IS NOT NULL
UNION ALL
SELECT line_number, event_id, 'phone', phone_error, true FROM ev_batch
WHERE fate IN ('stored', 'duplicate') AND phone_error IS NOT NULL;
