INSERT INTO identity_persons
    (person_id, anchor_key, anchor_type, anchor_value, first_seen_at, identifiers,
     customer_ids, emails, phones, anonymous_ids, click_ids, updated_at)
SELECT person_id, anchor_key, anchor_type, anchor_value, first_seen_at, identifiers,
    customer_ids, emails, phones, anonymous_ids, click_ids, $now
FROM ig_persons_added;
