-- What attribution reads of the identity graph (issue 15): plain columns, so the Spark engine
-- reads them from a snapshot as DuckDB computes them, like the opted_out view.

-- Each person's contact identities: the dii rows of the emails and phones the graph gives the
-- person (identity_graph holds them as the same UID2 hash as dii). Hubs have no identity_graph
-- row, so a shared or QA email is nobody's (and a CRM customer_id in the graph brings its
-- emails through the graph's own links, never around a hub). One row per (person_id, dii_id):
-- dii has one row per (dii_type, uid2_hash), identity_graph one per (id_type, id_value). A
-- plain join, no UNION, so DuckDB can reorder it with the joins of the queries reading it.
CREATE OR REPLACE VIEW person_dii AS
SELECT g.person_id, d.dii_id
FROM identity_graph AS g
JOIN dii AS d ON d.dii_type = g.id_type AND d.uid2_hash = g.id_value;

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
