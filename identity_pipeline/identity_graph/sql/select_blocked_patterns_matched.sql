-- The first pattern (by text) each blocked identifier of this run matches. Few rows: only
-- identifiers already known to match one of the patterns of their type.
SELECT r.id_key, min(p.pattern) AS blocked_pattern
FROM ig_run_identifiers AS r
JOIN ig_blocked_patterns AS p
  ON (p.id_type = '*' OR p.id_type = r.id_type) AND regexp_matches(r.plain, p.pattern)
WHERE r.blocked
GROUP BY r.id_key
