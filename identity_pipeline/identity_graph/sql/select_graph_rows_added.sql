-- identity_graph rows this run writes: new identifiers and those that moved. An identifier
-- whose person did not change is not rewritten.
SELECT n.id_key, n.id_type, n.id_value, n.person_id
FROM ig_new_graph AS n
LEFT JOIN ig_old_graph AS o ON o.id_key = n.id_key
WHERE o.person_id IS DISTINCT FROM n.person_id
