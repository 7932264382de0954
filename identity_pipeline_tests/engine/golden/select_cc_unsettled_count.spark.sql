SELECT
  COUNT(*)
FROM ig_cc_hooks AS h
JOIN ig_cc_hooks AS p
  ON p.node = h.parent
WHERE
  p.parent <> h.parent
