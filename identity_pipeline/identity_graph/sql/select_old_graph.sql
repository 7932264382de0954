SELECT g.id_key, g.person_id
FROM identity_graph AS g
WHERE g.person_id IN (SELECT person_id FROM ig_old_persons)
