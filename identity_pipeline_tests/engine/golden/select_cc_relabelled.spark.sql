SELECT
  l.node,
  COALESCE(h.parent, l.label) AS label
FROM ig_cc_labels AS l
LEFT JOIN ig_cc_hooks AS h
  ON h.node = l.label
