-- Graph rows kept (not the person's) that name a forgotten event as their first: an identifier
-- or link seen with the person (a hub such as a QA email on their device; or, when a request
-- names a hub, other persons' identifiers). Each is re-pointed to its earliest event that
-- is not forgotten, as a rebuild would find; one with none left goes, when no person holds it.
-- Runs after create_forget_scope.sql, before the deletes; adds its deletes to fg_row.
CREATE OR REPLACE TEMP TABLE fg_stale_identifier AS
SELECT min(f.request_no) AS request_no, i.id_key
FROM identity_identifiers AS i JOIN fg_event AS f ON f.event_id = i.first_event_id
WHERE i.id_key NOT IN (SELECT id_key FROM fg_identifier WHERE id_key IS NOT NULL)
GROUP BY i.id_key;

CREATE OR REPLACE TEMP TABLE fg_stale_link AS
SELECT min(f.request_no) AS request_no, l.key_a, l.key_b
FROM identity_links AS l JOIN fg_event AS f ON f.event_id = l.first_event_id
WHERE l.key_a NOT IN (SELECT id_key FROM fg_identifier WHERE id_key IS NOT NULL)
  AND l.key_b NOT IN (SELECT id_key FROM fg_identifier WHERE id_key IS NOT NULL)
GROUP BY l.key_a, l.key_b;

-- Events not forgotten that carry a stale identifier or a stale link's end.
CREATE OR REPLACE TEMP TABLE fg_kept_event AS
SELECT DISTINCT k.id_key, e.event_id, e.created_at
FROM identity_identifiers AS k
JOIN fg_event_ids AS e ON e.id_type = k.id_type AND e.id_value = k.id_value
WHERE k.id_key IN (
        SELECT id_key FROM fg_stale_identifier
        UNION SELECT key_a FROM fg_stale_link
        UNION SELECT key_b FROM fg_stale_link
    )
  AND e.event_id NOT IN (SELECT event_id FROM fg_event);

CREATE OR REPLACE TEMP TABLE fg_identifier_first AS
SELECT s.id_key, min(struct_pack(t := k.created_at, e := k.event_id)) AS first
FROM fg_stale_identifier AS s JOIN fg_kept_event AS k ON k.id_key = s.id_key
GROUP BY s.id_key;

CREATE OR REPLACE TEMP TABLE fg_link_first AS
SELECT s.key_a, s.key_b, min(struct_pack(t := a.created_at, e := a.event_id)) AS first
FROM fg_stale_link AS s
JOIN fg_kept_event AS a ON a.id_key = s.key_a
JOIN fg_kept_event AS b ON b.id_key = s.key_b AND b.event_id = a.event_id
GROUP BY s.key_a, s.key_b;

-- Identifiers with no event left and no person: they go with their hub rows and links.
CREATE OR REPLACE TEMP TABLE fg_dropped_identifier AS
SELECT s.request_no, s.id_key FROM fg_stale_identifier AS s
WHERE s.id_key NOT IN (SELECT id_key FROM fg_identifier_first)
  AND s.id_key NOT IN (SELECT id_key FROM identity_graph);

-- forget.py deletes their identity_identifiers, identity_hubs and identity_links rows.
-- Stale links with no event left go too.
INSERT INTO fg_row
SELECT 'identity_links', s.request_no, t.rowid
FROM identity_links AS t
JOIN fg_stale_link AS s ON s.key_a = t.key_a AND s.key_b = t.key_b
WHERE NOT EXISTS (
    SELECT 1 FROM fg_link_first AS f WHERE f.key_a = t.key_a AND f.key_b = t.key_b
);
