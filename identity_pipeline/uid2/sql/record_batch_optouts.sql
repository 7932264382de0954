-- Opt-outs in an answered batch (registered relation uid2_answer) join the permanent list.
-- Params: $now.
INSERT INTO optouts (uid2_hash, dii_type, source, source_file, opted_out_at)
SELECT uid2_hash, dii_type, 'uid2_api', NULL, CAST($now AS TIMESTAMP)
FROM uid2_answer WHERE u IS NULL AND e = 'optout'
ON CONFLICT DO NOTHING;
