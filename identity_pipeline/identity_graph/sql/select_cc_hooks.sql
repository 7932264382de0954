-- Hook every node of the current (contracted) graph to its smallest neighbour, or to itself
-- when it is smaller than all of them. Parents are never larger, so hooks form a forest.
SELECT src AS node, CASE WHEN min(dst) < src THEN min(dst) ELSE src END AS parent
FROM ig_cc_edges
GROUP BY src
