-- persons rows this run writes: re-stitched persons that are new or differ from their row.
SELECT person_id, anchor_key, anchor_type, anchor_value, first_seen_at, identifiers,
    customer_ids, emails, phones, anonymous_ids, click_ids
FROM ig_new_persons
EXCEPT
SELECT person_id, anchor_key, anchor_type, anchor_value, first_seen_at, identifiers,
    customer_ids, emails, phones, anonymous_ids, click_ids
FROM identity_persons
WHERE person_id IN (SELECT person_id FROM ig_new_persons)
