-- ip_typed (value, dii_type, region, ...) + ip_phone_fixes -> ip_normalize_output.
-- Email rules mirror uid2_client.input_util.normalize_email_string branch by branch (see
-- PROTOCOLS.md section 4). Each nesting level computes one step once per row; writing it as
-- one nested expression made DuckDB expand the same sub-expressions many times over.
CREATE OR REPLACE TEMP TABLE ip_normalize_output AS
SELECT * EXCLUDE (ip_e, ip_dom, ip_ats, ip_loc, ip_fix_normalized, ip_fix_error),
    CASE
        WHEN value IS NULL THEN 'value_missing'
        WHEN normalized IS NOT NULL THEN NULL
        WHEN dii_type = 'email' THEN 'email_invalid'
        ELSE coalesce(ip_fix_error, 'phone_invalid')
    END AS error,
    ip_uid2_hash(normalized) AS uid2_hash,
    CASE WHEN dii_type = 'email' THEN ip_id5_hash(normalized) END AS id5_hash
FROM (
    SELECT *,
        CASE
            WHEN dii_type = 'email' THEN
                -- exactly one '@', a non-empty domain and a non-empty (used) local part
                CASE WHEN ip_ats = 1 AND ip_dom <> '' AND ip_loc <> '' THEN ip_loc || '@' || ip_dom END
            WHEN ip_is_e164_ascii(value) THEN value
            ELSE ip_fix_normalized
        END AS normalized
    FROM (
        SELECT *,
            -- gmail.com drops every dot of the local part and everything from the first '+'
            CASE WHEN ip_dom = 'gmail.com'
                 THEN replace(split_part(split_part(ip_e, '@', 1), '+', 1), '.', '')
                 ELSE split_part(ip_e, '@', 1) END AS ip_loc
        FROM (
            SELECT *,
                -- trailing spaces of the domain are dropped; inner and leading ones are kept
                rtrim(split_part(ip_e, '@', 2), ' ') AS ip_dom,
                strlen(ip_e) - strlen(replace(ip_e, '@', '')) AS ip_ats
            FROM (
                SELECT t.*,
                    -- leading spaces are skipped, then ASCII A-Z is lowercased
                    CASE WHEN t.dii_type = 'email' THEN ip_ascii_lower(ltrim(t.value, ' ')) END
                        AS ip_e,
                    f.normalized AS ip_fix_normalized,
                    f.error AS ip_fix_error
                FROM ip_typed AS t
                LEFT JOIN ip_phone_fixes AS f
                    ON t.dii_type = 'phone' AND f.value = t.value AND f.region = t.region
            )
        )
    )
);
