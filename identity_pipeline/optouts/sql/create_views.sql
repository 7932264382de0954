-- Who is opted out: the one definition every due list, pending batch, id lookup and check
-- reads (join it; do not restate it). An identity is opted out when its hash is on the
-- permanent optouts list (UID2 answers, suppression files) or a mapping holds it as 'optout'.
-- One row per (uid2_hash, dii_id); dii_id is NULL for a listed hash no contact carries (yet).
CREATE OR REPLACE VIEW opted_out AS
SELECT o.uid2_hash, d.dii_id
FROM optouts AS o LEFT JOIN dii AS d ON d.uid2_hash = o.uid2_hash
UNION
SELECT uid2_hash, dii_id FROM uid2_mapping WHERE status = 'optout'
UNION
SELECT d.uid2_hash, m.dii_id
FROM id5_mapping AS m LEFT JOIN dii AS d ON d.dii_id = m.dii_id
WHERE m.status = 'optout';
