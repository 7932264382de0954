MERGE INTO identity_links AS t
USING ig_run_links AS s
ON t.key_a = s.key_a AND t.key_b = s.key_b
-- only an earlier sighting (a late event) changes a known row
WHEN MATCHED AND (s.first_seen_at < t.first_seen_at
                  OR (s.first_seen_at = t.first_seen_at AND s.first_event_id < t.first_event_id))
    THEN UPDATE SET first_seen_at = s.first_seen_at, first_event_id = s.first_event_id
WHEN NOT MATCHED THEN INSERT
    (key_a, key_b, type_a, type_b, first_seen_at, first_event_id)
    VALUES (s.key_a, s.key_b, s.type_a, s.type_b, s.first_seen_at, s.first_event_id)
