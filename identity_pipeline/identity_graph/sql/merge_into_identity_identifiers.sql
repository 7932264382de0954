MERGE INTO identity_identifiers AS t
USING ig_run_identifiers AS s
ON t.id_key = s.id_key
WHEN MATCHED THEN UPDATE SET
    first_event_id = CASE WHEN s.first_seen_at < t.first_seen_at
                            OR (s.first_seen_at = t.first_seen_at
                                AND s.first_event_id < t.first_event_id)
                          THEN s.first_event_id ELSE t.first_event_id END,
    first_seen_at = least(t.first_seen_at, s.first_seen_at),
    last_seen_at = greatest(t.last_seen_at, s.last_seen_at),
    events = t.events + s.events
WHEN NOT MATCHED THEN INSERT
    (id_key, id_type, id_value, first_seen_at, first_event_id, last_seen_at, events)
    VALUES (s.id_key, s.id_type, s.id_value, s.first_seen_at, s.first_event_id,
            s.last_seen_at, s.events)
