SELECT person_id, min(anchor_key) AS anchor_key, min(anchor_type) AS anchor_type,
    min(anchor_value) AS anchor_value, min(first_seen_at) AS first_seen_at,
    count(*) AS identifiers,
    sum(CASE WHEN id_type = 'customer_id' THEN 1 ELSE 0 END) AS customer_ids,
    sum(CASE WHEN id_type = 'email' THEN 1 ELSE 0 END) AS emails,
    sum(CASE WHEN id_type = 'phone' THEN 1 ELSE 0 END) AS phones,
    sum(CASE WHEN id_type = 'anonymous_id' THEN 1 ELSE 0 END) AS anonymous_ids,
    sum(CASE WHEN id_type IN ('gclid', 'fbclid') THEN 1 ELSE 0 END) AS click_ids
FROM ig_new_graph
GROUP BY person_id
