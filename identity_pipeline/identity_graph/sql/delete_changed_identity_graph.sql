DELETE FROM identity_graph WHERE id_key IN (SELECT id_key FROM ig_graph_removed);
