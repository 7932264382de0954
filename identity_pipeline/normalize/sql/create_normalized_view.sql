-- View ip_norm_output: every row of ip_norm_typed (value, dii_type, region, ip_fix_normalized,
-- ip_fix_error, other columns) plus normalized, error, uid2_hash, id5_hash, in the order of ip_norm_typed.
-- The `dii` asset materializes it; the `hash` command streams it straight into its output file.
-- Only SELECT over one relation: no join, aggregate or sort, so DuckDB keeps the input order.
--
-- Email rules mirror uid2_client.input_util.normalize_email_string (PROTOCOLS.md section 4).
-- Each nesting level computes one step once per row. Writing it as one nested expression made
-- DuckDB expand the same sub-expressions many times over.
CREATE OR REPLACE TEMP VIEW ip_norm_output AS
SELECT * EXCLUDE (ip_t, ip_l, ip_r, ip_sha, ip_fix_normalized, ip_fix_error),
    CASE
        WHEN value IS NULL THEN 'value_missing'
        WHEN normalized IS NOT NULL THEN NULL
        WHEN dii_type = 'email' THEN 'email_invalid'
        ELSE coalesce(ip_fix_error, 'phone_invalid')
    END AS error,
    ip_hex_to_base64(ip_sha) AS uid2_hash,
    CASE WHEN dii_type = 'email' THEN ip_sha END AS id5_hash
FROM (
    SELECT *, ip_sha256_hex(normalized) AS ip_sha
    FROM (
        SELECT *,
            CASE
                WHEN dii_type = 'email' THEN
                    -- exactly one '@' with something on each side (trailing spaces are gone,
                    -- so the domain is non-empty); gmail.com drops every dot of the local
                    -- part and everything from its first '+', and must keep something
                    CASE WHEN ip_r LIKE '_%@_%' AND ip_r NOT LIKE '%@%@%' THEN
                        CASE WHEN ends_with(ip_r, '@gmail.com')
                             THEN nullif(replace(split_part(split_part(ip_r, '@', 1), '+', 1),
                                                 '.', ''), '') || '@gmail.com'
                             ELSE ip_r END
                    END
                WHEN ip_is_e164_ascii(value) THEN value
                ELSE ip_fix_normalized
            END AS normalized
        FROM (
            SELECT *,
                -- trailing spaces are dropped (they can only belong to the domain or make the
                -- address invalid); inner ones are kept
                CASE WHEN ends_with(ip_l, ' ') THEN rtrim(ip_l, ' ') ELSE ip_l END AS ip_r
            FROM (
                SELECT *, ip_ascii_lower(ip_t) AS ip_l
                FROM (
                    SELECT *,
                        -- leading spaces are skipped (the tests are cheap, the trims are not)
                        CASE WHEN dii_type = 'email' THEN
                            CASE WHEN value LIKE ' %' THEN ltrim(value, ' ') ELSE value END
                        END AS ip_t
                    FROM ip_norm_typed
                )
            )
        )
    )
);
