SELECT
  h.node,
  p.parent
FROM ig_cc_hooks AS h
JOIN ig_cc_hooks AS p
  ON p.node = h.parent
