-- identity_graph rows this run retires: the identifier moved to another person or is a hub now.
SELECT o.id_key
FROM ig_old_graph AS o
LEFT JOIN ig_new_graph AS n ON n.id_key = o.id_key
WHERE n.person_id IS DISTINCT FROM o.person_id
