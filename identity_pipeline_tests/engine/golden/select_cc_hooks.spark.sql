SELECT
  src AS node,
  CASE WHEN MIN(dst) < src THEN MIN(dst) ELSE src END AS parent
FROM ig_cc_edges
GROUP BY
  src
