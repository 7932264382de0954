MERGE INTO identity_identifiers AS t
USING ig_run_identifiers AS s
ON t.id_key = s.id_key
-- only an earlier sighting (a late event) changes a known row
WHEN MATCHED AND (s.first_seen_at < t.first_seen_at
                  OR (s.first_seen_at = t.first_seen_at AND s.first_event_id < t.first_event_id))
    THEN UPDATE SET first_seen_at = s.first_seen_at, first_event_id = s.first_event_id
WHEN NOT MATCHED THEN INSERT
    (id_key, id_type, id_value, first_seen_at, first_event_id)
    VALUES (s.id_key, s.id_type, s.id_value, s.first_seen_at, s.first_event_id)
