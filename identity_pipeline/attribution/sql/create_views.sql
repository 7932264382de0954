-- What attribution reads of the identity graph (issue 15): plain columns, so the Spark engine
-- reads them from a snapshot as DuckDB computes them, like the opted_out view.

-- Each person's contact identities: the dii rows of the emails and phones the graph gives the
-- person (identity_graph holds them as the same UID2 hash as dii), and of the CRM customer ids
-- it gives them (through customer_dii). Hubs have no identity_graph row, so a shared or QA
-- email is nobody's. One row per (person_id, dii_id).
CREATE OR REPLACE VIEW person_dii AS
SELECT g.person_id, d.dii_id
FROM identity_graph AS g
JOIN dii AS d ON d.dii_type = g.id_type AND d.uid2_hash = g.id_value
UNION
SELECT g.person_id, cd.dii_id
FROM identity_graph AS g
JOIN customer_dii AS cd ON cd.customer_id = g.id_value
WHERE g.id_type = 'customer_id';

-- Purchase events, each a conversion of the person the graph gives its identifiers. Ids as
-- the stitcher keys them (trimmed; emails and phones as their UID2 hash); no properties JSON.
-- A purchase without a value counts 0; without a currency it is in 'XXX' (ISO 4217: no
-- currency), so it is never summed with a real one.
CREATE OR REPLACE VIEW purchase_events AS
SELECT event_id, created_at, day,
       coalesce(value, CAST(0 AS DOUBLE)) AS value,
       coalesce(currency, 'XXX') AS currency,
       nullif(trim(anonymous_id), '') AS anonymous_id,
       email_hash, phone_hash,
       nullif(trim(fbclid), '') AS fbclid,
       nullif(trim(gclid), '') AS gclid
FROM identity_events
WHERE action = 'purchase';
