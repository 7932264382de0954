-- From a loaded suppression file (temp table op_file, all VARCHAR, with row_number) build
-- op_values(row_number, field, uid2_hash, dii_type, error, value); value only to fingerprint rejects. Raw emails/phones were normalized into
-- op_raw_normalized beforehand; hashes may be base64 (44 chars) or hex (64 chars) SHA-256.
CREATE OR REPLACE TEMP TABLE op_values AS
SELECT row_number, field,
       CASE
           WHEN length(v) = 64 AND regexp_full_match(v, '[0-9a-fA-F]{64}')
               THEN to_base64(unhex(v))
           WHEN length(v) = 44 AND regexp_full_match(v, '[A-Za-z0-9+/]{43}=') THEN v
       END AS uid2_hash,
       CAST(NULL AS VARCHAR) AS dii_type,
       CASE
           WHEN (length(v) = 64 AND regexp_full_match(v, '[0-9a-fA-F]{64}'))
             OR (length(v) = 44 AND regexp_full_match(v, '[A-Za-z0-9+/]{43}=')) THEN NULL
           ELSE 'hash_invalid'
       END AS error,
       v AS value
FROM op_hash_values
UNION ALL
SELECT row_number, dii_type AS field, uid2_hash, dii_type, error, value
FROM op_raw_normalized;
