-- CRM links (customer_dii rows) as identifiers in graph form, one pseudo-event per link:
-- event_id 'customer_dii:<customer_id>:<dii_id>' at the link's first_seen_at, carrying the
-- customer_id and the identity's UID2 hash (email or phone, as `dii` stores it). Links already
-- stitched (identity_customer_links) are left out unless $full. Links to a forgotten email or
-- phone (forgotten_identifiers, the hashed deny-list) are never stitched, so a full rebuild
-- does not bring a forgotten person back from the CRM rows forget keeps.
WITH links AS (
    SELECT c.customer_id, c.dii_id, c.first_seen_at, d.dii_type, d.uid2_hash,
        'customer_dii:' || c.customer_id || ':' || CAST(c.dii_id AS VARCHAR) AS event_id
    FROM customer_dii AS c
    JOIN dii AS d ON d.dii_id = c.dii_id
    WHERE ($full
           OR NOT EXISTS (SELECT 1 FROM identity_customer_links AS s
                          WHERE s.customer_id = c.customer_id AND s.dii_id = c.dii_id))
      AND NOT EXISTS (SELECT 1 FROM forgotten_identifiers AS f
                      WHERE f.id_type = d.dii_type AND f.id_hash = d.uid2_hash)
)
SELECT event_id, first_seen_at AS created_at, 'customer_id' AS id_type, customer_id AS id_value,
    customer_id, dii_id
FROM links
UNION ALL
SELECT event_id, first_seen_at, dii_type, uid2_hash, customer_id, dii_id
FROM links
