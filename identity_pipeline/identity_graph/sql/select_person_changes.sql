-- How the persons that could change did change. An old person whose identifiers now sit in
-- other persons is retired ('merge': its new person gathers several old ones; 're_anchor':
-- an earlier-seen identifier arrived late; 'split': it fell apart) or, still alive, lost a
-- part ('split'). The cause is this run's earliest event (created_at, then event_id) that
-- links one of its identifiers to one outside it, else its earliest event of this run.
WITH moves AS (
    SELECT DISTINCT o.person_id AS old_person_id, n.person_id AS new_person_id
    FROM ig_old_graph AS o JOIN ig_new_graph AS n ON n.id_key = o.id_key
    WHERE n.person_id <> o.person_id
),
alive AS (SELECT DISTINCT person_id FROM ig_new_graph),
targets AS (SELECT old_person_id, count(*) AS n FROM moves GROUP BY old_person_id),
sources AS (
    SELECT n.person_id, count(DISTINCT o.person_id) AS n
    FROM ig_new_graph AS n JOIN ig_old_graph AS o ON o.id_key = n.id_key
    GROUP BY n.person_id
),
changes AS (
    SELECT m.old_person_id, m.new_person_id,
        CASE WHEN m.old_person_id IN (SELECT person_id FROM alive) OR t.n > 1 THEN 'split'
             WHEN s.n > 1 THEN 'merge'
             ELSE 're_anchor' END AS reason
    FROM moves AS m
    JOIN targets AS t ON t.old_person_id = m.old_person_id
    JOIN sources AS s ON s.person_id = m.new_person_id
    UNION ALL
    SELECT p.person_id, CAST(NULL AS VARCHAR), 'dissolved'
    FROM ig_old_persons AS p
    WHERE p.person_id NOT IN (SELECT person_id FROM alive)
      AND p.person_id NOT IN (SELECT old_person_id FROM moves)
),
bridges AS (
    -- Each run link seen from both ends: an old person is bridged by a link whose other end
    -- was not theirs (another old person's identifier, or a new one).
    SELECT o.person_id, min(struct_pack(t := l.first_seen_at, e := l.first_event_id)) AS first
    FROM (
        SELECT key_a AS near_key, key_b AS far_key, first_seen_at, first_event_id
        FROM ig_run_links
        UNION ALL
        SELECT key_b, key_a, first_seen_at, first_event_id FROM ig_run_links
    ) AS l
    JOIN ig_old_graph AS o ON o.id_key = l.near_key
    LEFT JOIN ig_old_graph AS f ON f.id_key = l.far_key
    WHERE f.person_id IS DISTINCT FROM o.person_id
      AND o.person_id IN (SELECT old_person_id FROM changes)
    GROUP BY o.person_id
),
touches AS (
    SELECT o.person_id, min(struct_pack(t := r.first_seen_at, e := r.first_event_id)) AS first
    FROM ig_run_identifiers AS r JOIN ig_old_graph AS o ON o.id_key = r.id_key
    WHERE o.person_id IN (SELECT old_person_id FROM changes)
    GROUP BY o.person_id
),
causes AS (
    SELECT p.old_person_id AS person_id,
        coalesce((SELECT min(b.first) FROM bridges AS b WHERE b.person_id = p.old_person_id),
                 (SELECT min(t.first) FROM touches AS t WHERE t.person_id = p.old_person_id))
            AS first
    FROM (SELECT DISTINCT old_person_id FROM changes) AS p
)
SELECT c.old_person_id, c.new_person_id, c.reason, k.first.e AS caused_by_event_id,
    k.first.t AS caused_at
FROM changes AS c
LEFT JOIN causes AS k ON k.person_id = c.old_person_id
