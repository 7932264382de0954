MERGE INTO identity_links AS t
USING ig_run_links AS s
ON t.key_a = s.key_a AND t.key_b = s.key_b
WHEN MATCHED THEN UPDATE SET
    first_event_id = CASE WHEN s.first_seen_at < t.first_seen_at
                            OR (s.first_seen_at = t.first_seen_at
                                AND s.first_event_id < t.first_event_id)
                          THEN s.first_event_id ELSE t.first_event_id END,
    first_seen_at = least(t.first_seen_at, s.first_seen_at),
    last_seen_at = greatest(t.last_seen_at, s.last_seen_at),
    events = t.events + s.events
WHEN NOT MATCHED THEN INSERT
    (key_a, key_b, type_a, type_b, first_seen_at, first_event_id, last_seen_at, events)
    VALUES (s.key_a, s.key_b, s.type_a, s.type_b, s.first_seen_at, s.first_event_id,
            s.last_seen_at, s.events)
