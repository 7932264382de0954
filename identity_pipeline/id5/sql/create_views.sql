-- Due rows no answer has covered yet: what the next batches send (create_id5_pending.sql)
-- and the status chart's "still due". A row mapped after the due list was built is done.
CREATE OR REPLACE VIEW id5_still_due AS
SELECT due.dii_id, due.id5_hash, due.known_uid, due.country_alpha2, due.reason, due.due_since
FROM id5_due_for_refresh AS due
LEFT JOIN id5_mapping AS m ON m.dii_id = due.dii_id
WHERE m.dii_id IS NULL OR m.mapped_at < due.due_since;
