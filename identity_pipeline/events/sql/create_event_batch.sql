-- ev_batch: each event of ev_hashed with its fate: 'rejected' (no usable anonymous_id or
-- email), 'forgotten' (carries a deny-listed identifier), 'duplicate' (its event_id is stored
-- already, or came earlier in this file) or 'stored'. ev_rejects: every reject row of the file.
CREATE OR REPLACE TEMP TABLE ev_batch AS
WITH fated AS (
    SELECT h.*,
        CASE WHEN NOT h.usable THEN 'rejected'
             WHEN f.line_number IS NOT NULL THEN 'forgotten' END AS early_fate
    FROM ev_hashed AS h LEFT JOIN ev_forgotten AS f USING (line_number)
),
ranked AS (
    SELECT *,
        row_number() OVER (PARTITION BY event_id, early_fate IS NULL ORDER BY line_number)
            AS copy_number
    FROM fated
)
SELECT * EXCLUDE (early_fate, copy_number),
    CASE WHEN early_fate IS NOT NULL THEN early_fate
         WHEN copy_number > 1 OR event_id IN (SELECT event_id FROM raw_events) THEN 'duplicate'
         ELSE 'stored' END AS fate,
    CAST(created_at AS DATE) AS day
FROM ranked;

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
