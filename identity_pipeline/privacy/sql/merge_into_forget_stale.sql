-- After the deletes: kept identifiers and links whose first event was forgotten now name
-- their earliest event that was not (temp tables of create_forget_stale.sql).
UPDATE identity_identifiers SET first_seen_at = f.first.t, first_event_id = f.first.e
FROM fg_identifier_first AS f WHERE f.id_key = identity_identifiers.id_key;

UPDATE identity_links SET first_seen_at = f.first.t, first_event_id = f.first.e
FROM fg_link_first AS f
WHERE f.key_a = identity_links.key_a AND f.key_b = identity_links.key_b;
