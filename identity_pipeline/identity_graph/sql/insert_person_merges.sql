INSERT INTO person_merges
    (old_person_id, new_person_id, reason, caused_by_event_id, caused_at, recorded_at)
SELECT old_person_id, new_person_id, reason, caused_by_event_id, caused_at, $now
FROM ig_person_changes;
