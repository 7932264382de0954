SELECT l.key_a, l.key_b
FROM identity_links AS l
WHERE l.key_a IN (SELECT id_key FROM ig_affected)
  AND l.key_b IN (SELECT id_key FROM ig_affected)
