SELECT DISTINCT
  a.parent AS src,
  b.parent AS dst
FROM ig_cc_edges AS e
JOIN ig_cc_hooks AS a
  ON a.node = e.src
JOIN ig_cc_hooks AS b
  ON b.node = e.dst
WHERE
  a.parent <> b.parent
