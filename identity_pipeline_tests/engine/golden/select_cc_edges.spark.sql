SELECT DISTINCT
  src,
  dst
FROM (
  SELECT
    src,
    dst
  FROM ig_cc_input_edges
  WHERE
    src <> dst
  UNION ALL
  SELECT
    dst,
    src
  FROM ig_cc_input_edges
  WHERE
    src <> dst
) AS e
