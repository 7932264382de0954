-- The service's journal: every event of person_journal as the service answers it, the payload
-- exactly as sent (raw_events.payload) without the landing row's event_id and created_at,
-- then created_at as the service writes it (UTC, microseconds, 'Z'); person and order from
-- person_journal. An event whose anonymous_id is a person's UUID (seed 003's Dagster example
-- sends one) is journaled under that person, as the service files it: the live person of
-- that UUID, or the survivor person_merges leads a retired one to.
WITH RECURSIVE named AS (
    SELECT DISTINCT lower(trim(r.anonymous_id)) AS uuid
    FROM person_journal AS j
    JOIN raw_events AS r ON r.event_id = j.event_id
    WHERE regexp_matches(
        lower(trim(r.anonymous_id)),
        '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    )
),
hops (uuid, current_id, depth) AS (
    SELECT uuid, uuid, 0 FROM named
    UNION ALL
    SELECT h.uuid, m.new_person_id, h.depth + 1
    FROM hops AS h
    JOIN person_merges AS m ON m.old_person_id = h.current_id
    WHERE h.depth < 50
      AND m.new_person_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM persons AS p WHERE p.person_id = h.current_id)
),
named_person AS (
    SELECT h.uuid, arg_min(h.current_id, h.depth) AS person_id
    FROM hops AS h
    JOIN persons AS p ON p.person_id = h.current_id
    GROUP BY h.uuid
)
SELECT
    coalesce(n.person_id, j.person_id) AS person_id,
    j.created_at,
    CAST(
        json_merge_patch(
            json_merge_patch(r.payload, '{"event_id": null, "created_at": null}'),
            json_object('created_at', strftime(j.created_at, '%Y-%m-%dT%H:%M:%S.%fZ'))
        ) AS VARCHAR
    ) AS entry
FROM person_journal AS j
JOIN raw_events AS r ON r.event_id = j.event_id
LEFT JOIN named_person AS n ON n.uuid = lower(trim(r.anonymous_id))
