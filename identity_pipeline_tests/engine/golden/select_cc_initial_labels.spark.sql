SELECT DISTINCT
  src AS node,
  src AS label
FROM ig_cc_edges
