-- Due rows no answer has covered yet: what the next batches send (create_uid2_pending.sql)
-- and the status chart's "still due". A row mapped after the due list was built is done.
CREATE OR REPLACE VIEW uid2_still_due AS
SELECT due.dii_id, due.uid2_hash, due.dii_type, due.reason, due.due_since
FROM uid2_due_for_refresh AS due
LEFT JOIN uid2_mapping AS m ON m.dii_id = due.dii_id
WHERE m.dii_id IS NULL OR m.mapped_at < due.due_since;
