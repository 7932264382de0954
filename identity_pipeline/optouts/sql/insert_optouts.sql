-- New permanent opt-outs from relation new_optouts(uid2_hash, dii_type). An opt-out is never
-- taken back, so a hash already listed keeps its first source. Params: $source ('uid2_api' |
-- 'suppression_file'), $source_file (relative to landing optouts/, or NULL), $now.
INSERT INTO optouts (uid2_hash, dii_type, source, source_file, opted_out_at)
SELECT uid2_hash, any_value(dii_type), CAST($source AS VARCHAR), CAST($source_file AS VARCHAR),
       CAST($now AS TIMESTAMP)
FROM new_optouts
WHERE uid2_hash IS NOT NULL
GROUP BY uid2_hash
ON CONFLICT DO NOTHING;
