MERGE INTO identity_hubs AS t
USING ig_hub_candidates AS s
ON t.id_key = s.id_key
WHEN MATCHED THEN UPDATE SET
    reason = s.reason, blocked_pattern = s.blocked_pattern, linked_type = s.linked_type,
    fan_out = s.fan_out, max_links = s.max_links, detected_at = $now
WHEN NOT MATCHED THEN INSERT
    (id_key, id_type, id_value, reason, blocked_pattern, linked_type, fan_out, max_links,
     first_detected_at, detected_at)
    VALUES (s.id_key, s.id_type, s.id_value, s.reason, s.blocked_pattern, s.linked_type,
            s.fan_out, s.max_links, $now, $now)
