-- Identifiers to re-stitch: those of the persons that can change and those of this run's
-- events, less every hub. Links never leave this set (old components were closed under
-- links, and every new link has both ends in this run).
SELECT i.id_key, i.id_type, i.id_value, i.first_seen_at
FROM identity_identifiers AS i
WHERE ($full
       OR i.id_key IN (SELECT id_key FROM ig_old_graph)
       OR i.id_key IN (SELECT id_key FROM ig_run_identifiers))
  AND NOT EXISTS (SELECT 1 FROM identity_hubs AS h WHERE h.id_key = i.id_key)
