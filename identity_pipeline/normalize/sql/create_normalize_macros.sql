-- Small building blocks for normalize_values.sql, bit-exact with uid2_client.input_util.
-- They are called on plain columns only (normalize_values.sql computes each step once per row).

-- The SDK lowercases ASCII A-Z only; DuckDB's lower() also folds non-ASCII letters, so it is
-- used as is only on pure-ASCII strings (as many bytes as characters) and on strings lower()
-- leaves unchanged (then there is no A-Z either). translate() is exact but slow; it handles
-- the rest, in practice non-ASCII addresses written in capitals.
CREATE OR REPLACE TEMP MACRO ip_ascii_lower(s) AS
    CASE WHEN strlen(s) = length(s) THEN lower(s)
         WHEN lower(s) = s THEN s
         ELSE translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END;

-- Values the SDK accepts as normalized phone numbers when they are plain ASCII.
-- (The SDK also accepts non-ASCII Unicode digits; those take the Python path.)
CREATE OR REPLACE TEMP MACRO ip_is_e164_ascii(p) AS regexp_full_match(p, '\+[0-9]{10,15}');

-- UID2 wants base64(SHA-256(UTF-8)) and ID5 lowercase hex SHA-256: from one hex digest.
CREATE OR REPLACE TEMP MACRO ip_sha256_hex(normalized) AS sha256(normalized);
CREATE OR REPLACE TEMP MACRO ip_hex_to_base64(digest) AS to_base64(unhex(digest));

-- A CRM's country as an ISO 3166-1 alpha-2 code for phonenumbers and ID5: trimmed, upper-cased,
-- blank as NULL. 'UK' (reserved by ISO for the United Kingdom) and 'EL' (the EU's code for
-- Greece) are common in CRM exports, but neither library accepts them, so they become GB and GR.
CREATE OR REPLACE TEMP MACRO ip_country_code(c) AS
    CASE upper(trim(c)) WHEN 'UK' THEN 'GB' WHEN 'EL' THEN 'GR' ELSE nullif(upper(trim(c)), '') END;
