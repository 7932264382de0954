-- Store one file's events (ev_batch, fate 'stored') and rejects (ev_rejects); the caller holds
-- the transaction. Rejects of the file's previous version are replaced.
DELETE FROM event_rejects WHERE source_file = $source_file;

INSERT INTO event_rejects BY NAME
SELECT $source_file AS source_file, line_number, event_id, field, reason,
    CAST($loaded_at AS TIMESTAMP) AS rejected_at, kept
FROM ev_rejects;

INSERT INTO raw_events BY NAME
SELECT b.event_id, b.created_at, b.day, b.platform, b.anonymous_id, b.email, b.phone, b.fbclid,
    coalesce(nullif(trim(b.gclid), ''), b.gaclid) AS gclid, l.line AS payload,
    $source_file AS source_file, b.line_number, CAST($ingest_seq AS BIGINT) AS ingest_seq,
    CAST($loaded_at AS TIMESTAMP) AS loaded_at
FROM ev_batch AS b JOIN ev_lines AS l USING (line_number)
WHERE b.fate = 'stored';

INSERT INTO identity_events BY NAME
SELECT event_id, created_at, day, platform, action, properties, value, currency,
    anonymous_key AS anonymous_id, email_hash, phone_hash, fbclid_key AS fbclid,
    gclid_key AS gclid, $source_file AS source_file, CAST($ingest_seq AS BIGINT) AS ingest_seq
FROM ev_batch WHERE fate = 'stored';
