-- Small building blocks for normalize_values.sql, bit-exact with uid2_client.input_util.

-- The SDK lowercases ASCII A-Z only; DuckDB's lower() also folds non-ASCII letters, so it is
-- used only when the string is pure ASCII (as many bytes as characters).
CREATE OR REPLACE TEMP MACRO ip_ascii_lower(s) AS
    CASE WHEN strlen(s) = length(s) THEN lower(s)
         ELSE translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END;

-- Values the SDK accepts as normalized phone numbers when they are plain ASCII.
-- (The SDK also accepts non-ASCII Unicode digits; those take the Python path.)
CREATE OR REPLACE TEMP MACRO ip_is_e164_ascii(p) AS regexp_full_match(p, '\+[0-9]{10,15}');

-- base64(SHA-256(UTF-8)) as UID2 expects, and lowercase hex SHA-256 as ID5 expects.
CREATE OR REPLACE TEMP MACRO ip_uid2_hash(normalized) AS to_base64(unhex(sha256(normalized)));
CREATE OR REPLACE TEMP MACRO ip_id5_hash(normalized) AS sha256(normalized);
