INSERT INTO identity_graph (id_key, id_type, id_value, person_id, updated_at)
SELECT id_key, id_type, id_value, person_id, $now FROM ig_graph_added;
