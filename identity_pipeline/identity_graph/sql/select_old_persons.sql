-- Persons this run can change: those holding an identifier of this run's events or a new hub
-- (all persons on a full rebuild).
SELECT DISTINCT g.person_id
FROM identity_graph AS g
WHERE $full
   OR g.id_key IN (SELECT id_key FROM ig_run_identifiers UNION ALL SELECT id_key FROM ig_new_hubs)
